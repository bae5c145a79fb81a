"""Error answers for the whole site: an HTML page, or under /api/ the API's one JSON error shape
(peerhub.api.errors). Django's handler400/403/404/500 (peerhub/urls.py) end here, and so do
peerhub.middleware's refusals.

A database that does not answer (down, restarting, out of connections) is a 503 with a
Retry-After, not a 500: nothing is wrong with the request, it is worth trying again. Those pages
are rendered without the request, so no context processor runs: nothing on the way to a 503
may need the database."""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

from .api.errors import error_body

logger = logging.getLogger(__name__)

# How long a client should wait before trying again after a 503, in seconds.
RETRY_AFTER = 30

DATABASE_ERRORS = (OperationalError, InterfaceError)

MESSAGES = {
    400: ("bad_request", _("The request could not be understood.")),
    403: ("permission_denied", _("You do not have permission to do this.")),
    404: ("not_found", _("Not found.")),
    405: ("method_not_allowed", _("Method not allowed.")),
    413: ("too_large", _("The request body is too large.")),
    415: ("unsupported_media_type", _("Unsupported media type.")),
    429: ("throttled", _("Too many requests: try again later.")),
    500: ("server_error", _("Something went wrong on our side.")),
    503: ("unavailable", _("The service is briefly unavailable: try again in a moment.")),
}


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def is_database_outage(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS)


def api_error(status: int, *, code: str | None = None, message: str | None = None) -> JsonResponse:
    default_code, default_message = MESSAGES.get(status, ("error", _("Error.")))
    return JsonResponse(
        error_body(
            status_code=status,
            code=code or default_code,
            message=str(message or default_message),
        ),
        status=status,
    )


def error_page(status: int, template: str, context: dict | None = None) -> HttpResponse:
    """A standalone page (templates/_error_base.html): no request, no context processors, no
    {% url %} lookups that could fail, so it renders whatever else is broken."""
    return HttpResponse(loader.get_template(template).render(context or {}), status=status)


def error_response(
    request, status: int, *, code: str | None = None, message: str | None = None
) -> HttpResponse:
    """The error answer for this request: JSON under /api/, the status's page elsewhere."""
    if is_api(request):
        response = api_error(status, code=code, message=message)
    else:
        template = f"{status}.html" if status in (400, 413, 500, 503) else "400.html"
        response = error_page(status, template, {"message": message} if message else None)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def database_unavailable(request, error: BaseException) -> HttpResponse:
    logger.error(
        "Database unavailable answering %s %s: %s",
        request.method,
        request.path,
        error,
        exc_info=(type(error), error, error.__traceback__),
    )
    return error_response(request, 503)


# --- Django's handlers (peerhub/urls.py) -------------------------------------------------------


@requires_csrf_token
def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413)
    return error_response(request, 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    if is_api(request):
        return api_error(403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception=None):
    if is_api(request):
        return api_error(404)
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request):
    """Called while Django handles an uncaught exception: a database outage is a 503."""
    error = sys.exception()
    if is_database_outage(error):
        return error_response(request, 503)
    return error_response(request, 500)
