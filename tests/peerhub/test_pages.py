import re

import pytest
from django.urls import reverse

from tests.factories import ManifestoVersionFactory, ValueFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["home", "manifesto", "code-of-conduct", "account_login", "account_signup"]


@pytest.fixture(autouse=True)
def world():
    ManifestoVersionFactory()
    ValueFactory.create_batch(3)


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_renders(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b"<main" in response.content


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_csp_forbids_inline_script_and_eval(client, name):
    response = client.get(reverse(name))
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert f'nonce="{nonce}"' in tag, f"script without the request's nonce: {tag}"
    assert " style=" not in html, "inline style attributes are blocked by the policy"
    assert re.search(r"\son[a-z]+=", html) is None, "inline event handlers are blocked too"


def test_htmx_is_served_locally_and_configured_without_eval(client):
    html = client.get(reverse("manifesto")).content.decode()
    assert re.search(r'<script [^>]*src="/static/django_htmx/htmx[-0-9]*\.min\.js', html)
    assert '"allowEval": false' in html
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", html).split("<body")[0]


def test_security_headers(client):
    response = client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_unknown_page_is_a_friendly_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "That page is not here" in response.content.decode()


def test_signed_in_navigation_shows_profile_and_logout(member_client):
    html = member_client.get(reverse("home")).content.decode()
    assert reverse("profile", args=[member_client.user.username]) in html
    assert "Log out" in html


@pytest.mark.parametrize("model", ["user", "value", "manifestoversion", "manifestosignature"])
def test_every_model_has_a_working_admin(client, staff_user, model):
    client.force_login(staff_user)
    assert client.get(reverse(f"admin:peerhub_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:peerhub_{model}_add")).status_code == 200


def test_static_files_are_served(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
