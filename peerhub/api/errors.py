"""One JSON shape for every API error:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"name": ["…"]}}}

DRF's own exceptions, Django's Http404/PermissionDenied and the domain errors that services raise
all end here, so clients handle one format."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from peerhub.exceptions import DomainError


def error_body(*, status_code: int, code: str, message: str, fields=None) -> dict:
    body = {
        "status": status_code,
        "code": code,
        "message": None if message is None else str(message),
    }
    if fields:
        body["fields"] = fields
    return {"error": body}


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        prefix = "" if key == "non_field_errors" else f"{key}: "
        return prefix + _first_message(value)
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            error_body(status_code=exc.status_code, code=exc.code, message=exc.message),
            status=exc.status_code,
            headers=getattr(exc, "headers", None),  # a write limit's Retry-After and RateLimit-*
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    detail = response.data
    if isinstance(exc, exceptions.ValidationError) or (
        isinstance(detail, dict) and set(detail) != {"detail"}
    ):
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        code, message = "invalid", _first_message(detail)
    else:
        fields = None
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else "error"
        if code == "error" and response.status_code == 404:
            code = "not_found"
        elif code == "error" and response.status_code == 403:
            code = "permission_denied"
        message = str(detail.get("detail") if isinstance(detail, dict) else detail)
    response.data = error_body(
        status_code=response.status_code, code=code, message=message, fields=fields
    )
    return response


def api_not_found(request, exception=None, **kwargs):
    return JsonResponse(
        error_body(status_code=404, code="not_found", message=_("Not found.")), status=404
    )
