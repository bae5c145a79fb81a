"""The settings module reads the environment once, at import: each case runs in a subprocess."""

import json
import os
import subprocess
import sys
import threading
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
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}).get("options", ""),
}))
"""
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k8#Qz!v2@pR7wL0xN4$tY9mB1cF6hJ3sD5gA-eU_iO+rT=yW&nM*",
    "ALLOWED_HOSTS": "peerhub.example.org",
}
# The money setups production accepts (README.md, "Payments in production").
SANDBOX_DEMO = {
    "PAYMENT_PROVIDER": "sandbox",
    "MARKETPLACE_PAYOUT_PROVIDER": "sandbox",
    "PAYMENT_SANDBOX_IN_PRODUCTION": "1",
}
STRIPE = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret",
    "MARKETPLACE_PAYOUT_PROVIDER": "sandbox",
    "PAYMENT_SANDBOX_IN_PRODUCTION": "1",
}
MONEY_VARIABLES = {
    "PAYMENT_PROVIDER", "MARKETPLACE_PAYOUT_PROVIDER", "PAYMENT_SANDBOX_IN_PRODUCTION",
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SANDBOX_WEBHOOK_SECRET",
}  # fmt: skip


def environment(**env_overrides) -> dict[str, str]:
    ignored = {"DATABASE_URL", "REDIS_URL", "DEBUG", "MAILER", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored | MONEY_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "peerhub.settings", **env_overrides})
    return env


def run(code_or_args, **env_overrides):
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(**env_overrides),
        capture_output=True,
        text=True,
        timeout=120,
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
    assert shown["mailer"].endswith("ConsoleEmailBackend")  # peerhub.mail: links on one line


def test_database_url_and_redis_url_switch_to_the_real_services():
    shown = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/peerhub_x",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["db_name"] == "peerhub_x"
    assert shown["cache"] == "peerhub.redis_cache.RedisCache"
    assert shown["broker"] == "redis://127.0.0.1:6379/3"
    assert shown["eager"] is False
    assert shown["acks_late"] is True
    assert shown["reject_on_lost"] is True
    # No JIT, and random reads priced for data in memory (peerhub.settings.POSTGRES_SESSION).
    assert shown["db_options"] == "-c jit=off -c random_page_cost=1.1"


def test_the_random_read_price_can_be_set():
    shown = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/peerhub_x", DATABASE_RANDOM_PAGE_COST="4"
    )
    assert shown["db_options"] == "-c jit=off -c random_page_cost=4"


def test_production_refuses_to_start_without_a_secret_key():
    result = run(SHOW, DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_unknown_mailer_is_refused():
    result = run(SHOW, MAILER="pigeon")
    assert result.returncode != 0
    assert "MAILER must be one of" in result.stderr


@pytest.mark.parametrize("money", [STRIPE, SANDBOX_DEMO], ids=["stripe", "sandbox-demo"])
def test_deployment_checklist_passes_in_production_mode(money):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION, **money
    )
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


# --- Payments in production fail closed (issue 15; the checks themselves: marketplace/checks.py,
# tests/marketplace/test_config.py) ------------------------------------------------------------


def test_gunicorns_import_refuses_production_on_the_default_sandbox():
    result = run("import peerhub.wsgi", **PRODUCTION)
    assert result.returncode != 0
    assert "ImproperlyConfigured: PeerHub refuses to start:" in result.stderr
    assert "marketplace.E002: Payments go through the sandbox" in result.stderr
    assert "marketplace.E006: Payouts go through the sandbox" in result.stderr
    assert "PAYMENT_SANDBOX_IN_PRODUCTION=1" in result.stderr


@pytest.mark.parametrize("money", [STRIPE, SANDBOX_DEMO], ids=["stripe", "sandbox-demo"])
def test_gunicorns_import_starts_on_an_accepted_money_setup(money):
    result = run("import peerhub.wsgi; print('serving')", **PRODUCTION, **money)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("serving")


def test_the_opt_in_alone_does_not_let_the_default_sandbox_run():
    """The sandbox must be named: a leftover PAYMENT_SANDBOX_IN_PRODUCTION is not enough."""
    result = run("import peerhub.wsgi", **PRODUCTION, PAYMENT_SANDBOX_IN_PRODUCTION="1")
    assert result.returncode != 0
    assert "marketplace.E002" in result.stderr
    assert "marketplace.E006" in result.stderr


@pytest.mark.parametrize(
    "money, error",
    [
        ({**STRIPE, "STRIPE_WEBHOOK_SECRET": ""}, "marketplace.E004"),
        ({**STRIPE, "STRIPE_SECRET_KEY": ""}, "marketplace.E003"),
        ({**SANDBOX_DEMO, "PAYMENT_PROVIDER": "sandbx"}, "marketplace.E001"),
        ({**STRIPE, "MARKETPLACE_PAYOUT_PROVIDER": "stripe"}, "marketplace.E005"),
        ({**SANDBOX_DEMO, "SANDBOX_WEBHOOK_SECRET": ""}, "marketplace.E007"),
    ],
    ids=["stripe-no-webhook-secret", "stripe-no-key", "unknown", "stripe-payouts", "no-secret"],
)
def test_gunicorns_import_refuses_a_half_setup(money, error):
    result = run("import peerhub.wsgi", **PRODUCTION, **money)
    assert result.returncode != 0
    assert f"{error}: " in result.stderr


def test_check_deploy_lists_the_payment_errors():
    result = run(["manage.py", "check", "--deploy"], **PRODUCTION)
    assert result.returncode != 0
    assert "(marketplace.E002)" in result.stderr
    assert "(marketplace.E006)" in result.stderr


def test_the_embedded_default_passes_the_payment_checks():
    result = run(["manage.py", "check", "--tag", "payments"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_celery_worker_refuses_production_on_the_default_sandbox():
    result = run(["-m", "celery", "-A", "peerhub", "worker", "--pool", "solo"], **PRODUCTION)
    assert result.returncode != 0
    assert "PeerHub refuses to start:" in result.stderr
    assert "marketplace.E002" in result.stderr
    assert "ready." not in result.stderr


def test_celery_beat_refuses_production_on_the_default_sandbox(tmp_path):
    schedule = tmp_path / "beat-schedule"
    result = run(["-m", "celery", "-A", "peerhub", "beat", "-s", str(schedule)], **PRODUCTION)
    assert result.returncode != 0
    assert "PeerHub refuses to start:" in result.stderr + result.stdout
    assert "marketplace.E006" in result.stderr + result.stdout


def test_a_celery_worker_starts_on_the_sandbox_demo(tmp_path):
    """With no REDIS_URL the broker is in memory: the worker gets ready and is stopped."""
    command = [sys.executable, "-m", "celery", "-A", "peerhub", "worker", "--pool", "solo"]
    process = subprocess.Popen(
        [*command, "--loglevel", "INFO", "--pidfile", str(tmp_path / "worker.pid")],
        cwd=ROOT,
        env=environment(**PRODUCTION, **SANDBOX_DEMO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A worker that neither gets ready nor exits is killed, which ends the reading below.
    watchdog = threading.Timer(90, process.kill)
    watchdog.start()
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if " ready." in line:
                break
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=30)
    assert any(" ready." in line for line in seen), "".join(seen)
    assert not any("refuses to start" in line for line in seen)
