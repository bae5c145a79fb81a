import os

from django.core.wsgi import get_wsgi_application

from peerhub.startup import refuse_to_start_on_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerhub.settings")
application = get_wsgi_application()
# gunicorn runs no system checks: a money setup that fails them must not serve a page.
refuse_to_start_on_errors()
