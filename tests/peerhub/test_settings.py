"""The settings module reads the environment once, at import: each case runs in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOW = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "acks_late": settings.CELERY_TASK_ACKS_LATE,
    "reject_on_lost": settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "debug": settings.DEBUG,
    "mailer": settings.MAILERS["default"]["BACKEND"],
}))
"""
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k8#Qz!v2@pR7wL0xN4$tY9mB1cF6hJ3sD5gA-eU_iO+rT=yW&nM*",
    "ALLOWED_HOSTS": "peerhub.example.org",
}


def run(code_or_args, **env_overrides):
    ignored = {"DATABASE_URL", "REDIS_URL", "DEBUG", "MAILER", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update({"DJANGO_SETTINGS_MODULE": "peerhub.settings", **env_overrides})
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_with(**env):
    result = run(SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_locmem_and_eager_tasks():
    shown = settings_with()
    assert shown["db"] == "django.db.backends.sqlite3"
    assert shown["db_name"].endswith("var/peerhub.sqlite3")
    assert shown["cache"].endswith("LocMemCache")
    assert shown["eager"] is True
    assert shown["broker"] == "memory://"
    assert shown["debug"] is True
    assert shown["mailer"].endswith("console.EmailBackend")


def test_database_url_and_redis_url_switch_to_the_real_services():
    shown = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/peerhub_x",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["db_name"] == "peerhub_x"
    assert shown["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert shown["broker"] == "redis://127.0.0.1:6379/3"
    assert shown["eager"] is False
    assert shown["acks_late"] is True
    assert shown["reject_on_lost"] is True


def test_production_refuses_to_start_without_a_secret_key():
    result = run(SHOW, DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_unknown_mailer_is_refused():
    result = run(SHOW, MAILER="pigeon")
    assert result.returncode != 0
    assert "MAILER must be one of" in result.stderr


def test_deployment_checklist_passes_in_production_mode():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("SESSION_COOKIE_SECURE", True),
        ("CSRF_COOKIE_SECURE", True),
        ("SECURE_SSL_REDIRECT", True),
        ("SECURE_HSTS_SECONDS", 31536000),
    ],
)
def test_production_mode_hardens_cookies_and_transport(setting, expected):
    result = run(
        "import django, json; from django.conf import settings; django.setup(); "
        f"print(json.dumps(settings.{setting}))",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
