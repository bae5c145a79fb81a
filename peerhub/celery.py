"""The Celery app. Configuration comes from Django settings (CELERY_* names); with no REDIS_URL
the tasks run eagerly in the web process, so the embedded default needs no broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerhub.settings")

app = Celery("peerhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
