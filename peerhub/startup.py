"""Refusing to start: gunicorn and Celery do not run Django's system checks as runserver and
migrate do, so peerhub/wsgi.py and peerhub/celery.py ask for the ones that must hold first."""

import logging

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# Checks a process must pass before it serves a request or runs a task (marketplace/checks.py).
STARTUP_TAGS = ["payments"]


def refuse_to_start_on_errors(*, tags: list[str] = STARTUP_TAGS) -> None:
    """Run the checks with these tags (deployment checks included); raise ImproperlyConfigured
    listing every error, log anything milder. Django must be set up."""
    found = [
        message
        for message in checks.run_checks(tags=tags, include_deployment_checks=True)
        if not message.is_silenced()
    ]
    for message in found:
        if not message.is_serious():
            logger.warning("%s", describe(message))
    errors = sorted((message for message in found if message.is_serious()), key=lambda m: m.id)
    if errors:
        listed = "\n".join(describe(message) for message in errors)
        raise ImproperlyConfigured(f"PeerHub refuses to start:\n{listed}")


def describe(message: checks.CheckMessage) -> str:
    hint = f"\n    {message.hint}" if message.hint else ""
    return f"  {message.id}: {message.msg}{hint}"
