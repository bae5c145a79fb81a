"""The OpenAPI schema's view of errors, in one place: every operation documents the 4xx answers
it may give, all in the one JSON error shape (peerhub.api.errors), instead of each view listing
them. Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"].

Which statuses an operation documents follows from what answers them, not from each view:
- 400 everywhere: RequestHygieneMiddleware refuses NUL characters in any query string, and
  bodies and query parameters are validated;
- 401 and 403 wherever an authenticator runs: a bad or expired token is 401 on any route, a
  token lacking a scope (or a staff member without two-factor authentication) 403;
- 404 for routes with a path parameter, for paginated lists (a page past the end) and for
  writes (a row the body names may be missing, or invisible to the member);
- 409 and 429 for unsafe methods: services refuse conflicting writes, and the write limits
  (peerhub.throttles) count every unsafe request;
- 413 and 415 for operations with a request body (peerhub.api.parsers caps the body);
- 422 for the operations that take an `Idempotency-Key` (a key reused for another request).
A view's own `@extend_schema(responses=...)` for one of these codes wins; a 4xx it documents
without a body gets the error shape."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
WITH_BODY = {"POST", "PUT", "PATCH"}

DESCRIPTIONS = {
    400: "The request is malformed or invalid (`fields` lists each field's errors).",
    401: "Not signed in, or the token is invalid or expired.",
    403: "Not allowed: a missing permission, token scope or verified e-mail address.",
    404: "Nothing there, or nothing the member may see.",
    409: "Conflicts with the current state.",
    413: "The request body is too large.",
    415: "The request body's media type is not supported.",
    422: "The `Idempotency-Key` was used for a different request.",
    429: "Too many requests for now (`Retry-After` says when to try again).",
}


class BlockerSerializer(serializers.Serializer):
    """Something to settle before an account may be deleted (peerhub.deletion)."""

    message = serializers.CharField()
    url = serializers.CharField(help_text="Where to settle it (a path on this site), or empty.")


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `not_found`.")
    message = serializers.CharField()
    fields = serializers.DictField(
        required=False,
        help_text="Validation errors by field (`non_field_errors` for the whole input).",
    )
    blockers = BlockerSerializer(
        many=True,
        required=False,
        help_text="Code `deletion_blocked` only: what must be settled before leaving.",
    )


class ErrorSerializer(serializers.Serializer):
    """The one JSON error shape of the API (peerhub.api.errors)."""

    error = ErrorDetailSerializer()


def _model_field(field):
    """The model field a read-only serializer field shows, when it shows one directly."""
    if not field.read_only or not field.source or "." in field.source or field.source == "*":
        return None
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    return None if model_field.auto_created and not model_field.concrete else model_field


class AutoSchema(SpectacularAutoSchema):
    """The default error answers above, and read-only fields documented with what their model
    field may hold: DRF drops `allow_null` and `allow_blank` from read-only fields, so
    drf-spectacular alone would promise a value where the API answers null, and leave "" out of
    a choice's enum."""

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        model_field = _model_field(field)
        if model_field is not None and getattr(model_field, "null", False):
            meta["nullable"] = True
        return meta

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        model_field = _model_field(field)
        if (
            model_field is not None
            and getattr(model_field, "blank", False)
            and "" not in schema.get("enum", [""])
        ):
            schema = {**schema, "enum": [*schema["enum"], ""]}
        return schema

    def _error_statuses(self) -> list[int]:
        codes = [400]
        if self.view.get_authenticators():
            codes += [401, 403]
        if (
            "{" in self.path
            or self.method in UNSAFE
            or (self.method == "GET" and self._is_paginated_list())
        ):
            codes.append(404)
        if self.method in UNSAFE:
            codes += [409, 429]
        if self.method in WITH_BODY:
            codes += [413, 415]
        parameters = self.get_override_parameters()
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in parameters):
            codes.append(422)
        return sorted(codes)

    def _is_paginated_list(self) -> bool:
        return self._get_paginator() is not None and self._is_list_view()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_statuses():
            responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            # A view's own 4xx (e.g. `OpenApiResponse(description=...)`) keeps its description
            # and gets the error shape as its body.
            if code.startswith("4") and "content" not in response:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=response["description"]), code
                )
        return dict(sorted(responses.items()))
