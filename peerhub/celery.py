"""The Celery app. Configuration comes from Django settings (CELERY_* names); with no REDIS_URL
the tasks run eagerly in the web process, so the embedded default needs no broker."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerhub.settings")

app = Celery("peerhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def check_before_starting(**kwargs) -> None:
    """A worker or beat whose money setup fails the startup checks must not run a task.

    Celery logs an exception raised by a signal handler and carries on, so this exits instead.
    Celery's Django fixup, connected before, has already called django.setup()."""
    from django.core.exceptions import ImproperlyConfigured

    from peerhub import startup

    try:
        startup.refuse_to_start_on_errors()
    except ImproperlyConfigured as error:
        raise SystemExit(str(error)) from error
