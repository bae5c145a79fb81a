"""Request hygiene and error answers that no single view can give (peerhub.inputs, peerhub.errors).

Order in settings.MIDDLEWARE: `ApiErrorShapeMiddleware` outside every other of PeerHub's and
Django's (after whitenoise), so that it sees their answers; `RequestHygieneMiddleware` next,
before anything reads the request (sessions, CSRF, views); `DatabaseOutageMiddleware` last,
nearest the views."""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.utils import formats, translation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import errors, inputs

NUL_MESSAGE = _("NUL characters are not allowed.")


def _too_large(limit: int):
    """The 413's message, worded (and the number grouped) in the reader's language."""
    grouped = lazy(lambda: formats.number_format(limit, force_grouping=True), str)()
    return format_lazy(_("The request body is over {limit} bytes."), limit=grouped)


class RequestHygieneMiddleware:
    """Refuses, before anything reads it, a request whose declared body is over
    DATA_UPLOAD_MAX_MEMORY_SIZE (413), and one with a NUL character in its path, its query
    string or its form fields (400): PostgreSQL cannot store NUL, and its driver refuses it in
    a query with an error that would be a 500. JSON bodies are the API parser's
    (peerhub.api.parsers); the payment webhook checks its raw body itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        if refusal is not None:
            status, code, message = refusal
            # Before LocaleMiddleware: the reader's language from their cookie or browser.
            with translation.override(translation.get_language_from_request(request)):
                return errors.error_response(request, status, code=code, message=str(message))
        return self.get_response(request)

    @staticmethod
    def refusal(request) -> tuple[int, str, str] | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        multipart = request.content_type == "multipart/form-data"
        if multipart and limit is not None:
            # Files (challenges.files): each is checked against its own quota when read.
            limit = max(limit, settings.FILE_UPLOAD_REQUEST_MAX)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, "bad_request", _("The Content-Length header is not a number.")
        if limit is not None and declared > limit:
            return 413, "too_large", _too_large(limit)
        if inputs.has_nul(request.path_info) or b"\x00" in unquote_to_bytes(
            request.META.get("QUERY_STRING", "")
        ):
            return 400, "nul_character", NUL_MESSAGE
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                # A form's body first: parsed from it, it stays readable as request.body for
                # the view. A multipart body is parsed as a stream instead (its files spool to
                # temporary files), and Django still caps its text fields at the limit.
                if not multipart:
                    request.body  # noqa: B018
                fields = list(request.POST.lists())
            except RequestDataTooBig:
                return 413, "too_large", _too_large(limit)
            except TooManyFieldsSent:
                return 400, "too_many_fields", _("The form has too many fields.")
            for key, values in fields:
                if inputs.has_nul(key) or any(inputs.has_nul(value) for value in values):
                    return 400, "nul_character", NUL_MESSAGE
        return None


class DatabaseOutageMiddleware:
    """A view that meets a database that does not answer gets a 503, not a 500 — in DEBUG too.
    What fails outside a view (a middleware loading the user, a session saved on the way out)
    reaches handler500, which says the same (peerhub.errors.server_error); in DEBUG Django shows
    its traceback page there instead, as it does for every error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if errors.is_database_outage(exception):
            return errors.database_unavailable(request, exception)
        return None


class ApiErrorShapeMiddleware:
    """Under /api/, an error answered by something other than the API (Django's own 405 for a
    view limited to POST, a 400 from a decorator) is given the API's JSON error shape; the status
    and the headers (Allow, Retry-After, the security headers) stay."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and errors.is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
            # A developer's traceback page stays one (production answers handler500's JSON).
            and not (settings.DEBUG and response.status_code >= 500)
        ):
            shaped = errors.api_error(response.status_code)
            response.content = shaped.content
            response["Content-Type"] = shaped["Content-Type"]
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
