"""The client's address and scheme: from X-Forwarded-* only when a trusted proxy sent them."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory

from peerhub.adapters import AccountAdapter
from peerhub.api.throttling import ScopedRateThrottle
from peerhub.proxies import client_ip, parse_networks
from tests.peerhub.test_settings import PRODUCTION, run

PROXY = "10.0.0.5"


def request(remote_addr="198.51.100.7", xff=None, proto=None):
    headers = {}
    if xff is not None:
        headers["HTTP_X_FORWARDED_FOR"] = xff
    if proto is not None:
        headers["HTTP_X_FORWARDED_PROTO"] = proto
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("203.0.113.9", xff="1.2.3.4")) == "203.0.113.9"


def test_an_untrusted_peer_cannot_choose_its_address(behind_proxy):
    assert client_ip(request("203.0.113.9", xff="1.2.3.4, 10.0.0.5")) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client_right_most_untrusted_wins(behind_proxy):
    # The client wrote "1.2.3.4" itself; the proxy appended the address it really saw.
    assert client_ip(request(PROXY, xff="1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_back(behind_proxy):
    assert client_ip(request(PROXY, xff="1.2.3.4, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"


def test_garbage_in_the_header_stops_at_the_last_trusted_hop(behind_proxy):
    assert client_ip(request(PROXY, xff="203.0.113.9, not-an-ip")) == PROXY
    assert client_ip(request(PROXY, xff="")) == PROXY


def test_ports_brackets_and_ipv4_mapped_addresses_are_normalised(behind_proxy):
    assert client_ip(request(PROXY, xff="203.0.113.9:5555")) == "203.0.113.9"
    assert client_ip(request(PROXY, xff="[2001:db8::1]:443")) == "2001:db8::1"
    assert client_ip(request("::ffff:203.0.113.9")) == "203.0.113.9"


def test_trusted_proxies_must_be_addresses_or_networks():
    assert [str(n) for n in parse_networks(["10.0.0.1", "172.16.0.0/12"])] == [
        "10.0.0.1/32",
        "172.16.0.0/12",
    ]
    with pytest.raises(ImproperlyConfigured, match="not an IP or CIDR"):
        parse_networks(["proxy.internal"])


def test_drf_throttles_and_allauth_rate_limits_use_client_ip(behind_proxy):
    spoofed = request("203.0.113.9", xff="1.2.3.4")
    relayed = request(PROXY, xff="1.2.3.4, 203.0.113.9")
    throttle = ScopedRateThrottle()
    drf_spoofed = APIRequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="x")
    assert throttle.get_ident(drf_spoofed) == "203.0.113.9"
    assert AccountAdapter().get_client_ip(spoofed) == "203.0.113.9"
    assert AccountAdapter().get_client_ip(relayed) == "203.0.113.9"


@pytest.mark.django_db
def test_the_middleware_makes_the_client_the_remote_addr(client, behind_proxy):
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.wsgi_request.META["REMOTE_ADDR"] == "203.0.113.9"
    assert response.wsgi_request.META["peerhub.proxy_peer"] == PROXY


@pytest.mark.django_db
@pytest.mark.parametrize(
    "peer, proto, secure",
    [
        ("203.0.113.9", "https", False),  # anyone can send the header: it proves nothing
        (PROXY, "https", True),
        (PROXY, "http", False),
        (PROXY, "http, https", True),  # the nearest (trusted) proxy's word is the last one
        (PROXY, None, False),
    ],
)
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    client, behind_proxy, peer, proto, secure
):
    headers = {"HTTP_X_FORWARDED_PROTO": proto} if proto else {}
    response = client.get("/healthz", REMOTE_ADDR=peer, **headers)
    assert response.wsgi_request.is_secure() is secure


@pytest.mark.django_db
def test_the_ssl_redirect_cannot_be_skipped_with_a_forged_header(client, behind_proxy, settings):
    settings.SECURE_SSL_REDIRECT = True
    forged = client.get("/manifesto/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert forged.status_code == 301
    assert forged["Location"].startswith("https://")
    relayed = client.get("/manifesto/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert relayed.status_code != 301


def test_production_trusts_no_proxy_unless_told_and_refuses_a_bad_one():
    show = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.SECURE_PROXY_SSL_HEADER, settings.TRUSTED_PROXIES]))"
    )
    result = run(show, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [None, []]
    result = run(show, **PRODUCTION, TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1")
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [None, ["10.0.0.0/8", "192.0.2.1"]]
    result = run(show, **PRODUCTION, TRUSTED_PROXIES="proxy.internal")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
