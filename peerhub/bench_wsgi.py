"""The WSGI application the benchmark runs under gunicorn: the site with the bare view added."""

import os

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerhub.settings")
django.setup()
settings.ROOT_URLCONF = "peerhub.bench_urls"

from peerhub.wsgi import application  # noqa: E402

__all__ = ["application"]
