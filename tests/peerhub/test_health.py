import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import need


@pytest.mark.django_db
def test_healthz_is_200_when_everything_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_down(client):
    dead_cache = {
        "default": {
            "BACKEND": "peerhub.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=dead_cache):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"].startswith("error")
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, settings, monkeypatch):
    from peerhub.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["broker"].startswith("error")


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_checks_the_real_redis_cache_and_broker(client, settings):
    need(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_the_container_health_check_asks_healthz_with_an_allowed_host(live_server, monkeypatch):
    """`python -m peerhub.healthcheck` (Dockerfile and compose): 0 when /healthz answers 200
    for the first of ALLOWED_HOSTS, 1 when nothing answers."""
    from urllib.parse import urlsplit

    from peerhub import healthcheck

    monkeypatch.setenv("ALLOWED_HOSTS", "localhost,peerhub.example.org")
    monkeypatch.setenv("PORT", str(urlsplit(live_server.url).port))
    assert healthcheck.main() == 0
    monkeypatch.setenv("PORT", "9")  # the discard port: nothing answers there
    assert healthcheck.main() == 1
