"""Who is on the other end of a request, when reverse proxies stand in between.

X-Forwarded-For and X-Forwarded-Proto are headers any client can send, so they count only when
the direct peer (REMOTE_ADDR) is one of the proxies named in TRUSTED_PROXIES (IP addresses or
CIDR networks; none by default). `client_ip` is the one answer every rate limit and throttle
uses: allauth's (through peerhub.adapters), DRF's (peerhub.api.throttling) and the failed-login
limits (peerhub.login_limits)."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CACHE_KEY = "peerhub.client_ip"
PEER_KEY = "peerhub.proxy_peer"  # REMOTE_ADDR as the server saw it, before the middleware


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`["10.0.0.1", "172.16.0.0/12"]` as networks; anything else is a configuration error."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP or CIDR."
            ) from error
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(entries)


def trusted_networks() -> tuple[Network, ...]:
    return _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _address(value: str) -> Address | None:
    """An address from a header entry: `203.0.113.9`, `203.0.113.9:4711`, `[2001:db8::1]:443`."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket: one client, one key.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None) -> bool:
    return address is not None and any(address in network for network in trusted_networks())


def _peer(meta) -> str:
    return meta.get(PEER_KEY) or meta.get("REMOTE_ADDR", "")


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy; then the right-most
    X-Forwarded-For entry that is not a trusted proxy (entries further left were written by
    whoever sent the request, and prove nothing). Cached on the request."""
    meta = request.META
    cached = meta.get(_CACHE_KEY)
    if cached is not None:
        return cached
    peer = _peer(meta)
    address = _address(peer)
    result = str(address) if address is not None else peer
    if is_trusted(address):
        hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            hop_address = _address(hop)
            if hop_address is None:
                break  # garbage: stop at the last hop a trusted proxy vouched for
            result = str(hop_address)
            if not is_trusted(hop_address):
                break
    meta[_CACHE_KEY] = result
    return result


def forwarded_https(request) -> bool | None:
    """What a trusted proxy says about the scheme the client used (the right-most
    X-Forwarded-Proto value), or None when there is no trusted word on it."""
    meta = request.META
    if not is_trusted(_address(_peer(meta))):
        return None
    values = [v.strip().lower() for v in meta.get("HTTP_X_FORWARDED_PROTO", "").split(",")]
    values = [v for v in values if v]
    if not values:
        return None
    return values[-1] == "https"


class TrustedProxyMiddleware:
    """First in MIDDLEWARE: the rest of the stack sees the client, not the proxy.

    REMOTE_ADDR becomes `client_ip(request)` (the server's own peer is kept under
    `peerhub.proxy_peer`), and the scheme is https only when the connection itself is or a
    trusted proxy says so: SECURE_PROXY_SSL_HEADER is deliberately unset, since Django would
    believe that header from anyone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if PEER_KEY not in meta:
            meta[PEER_KEY] = meta.get("REMOTE_ADDR", "")
            ip = client_ip(request)
            if ip:
                meta["REMOTE_ADDR"] = ip
            https = forwarded_https(request)
            if https is not None:
                meta["wsgi.url_scheme"] = "https" if https else "http"
        return self.get_response(request)
