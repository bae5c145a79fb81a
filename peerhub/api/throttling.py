"""DRF throttles keyed on the client address as peerhub.proxies works it out: behind trusted
proxies the real client, never a client-supplied X-Forwarded-For."""

from rest_framework import throttling

from peerhub.proxies import client_ip


class ClientIpMixin:
    def get_ident(self, request) -> str:
        return client_ip(request)


class ScopedRateThrottle(ClientIpMixin, throttling.ScopedRateThrottle):
    pass


class AnonRateThrottle(ClientIpMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIpMixin, throttling.UserRateThrottle):
    pass
