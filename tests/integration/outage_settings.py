"""Production settings for the outage test's server (test_database_outage.py), serving static
files unhashed: the test is about the database, not about a collectstatic manifest."""

from peerhub.settings import *  # noqa: F403
from peerhub.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
