"""The API's request parsers: DRF's, with the limits of peerhub.limits and peerhub.inputs.

A JSON body is read up to DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the stream itself, so Django's
own cap would not apply), parsed, and refused with a 400 when it nests deeper than
limits.JSON_DEPTH or holds a NUL character (in a key or a string; `\\u0000` included). Python's
json module fails on very deep input with a RecursionError, which is caught too: the depth is
then checked again on what was parsed, without recursion, so no input reaches a view deeper
than the cap. Form bodies (PATCH and PUT, which Django's own request.POST does not parse) are
refused with a 400 when a NUL hides in a key or a value."""

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

from peerhub import inputs, limits


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def too_deep() -> ParseError:
    return ParseError(
        f"The JSON nests deeper than {limits.JSON_DEPTH} levels.", code="too_deeply_nested"
    )


def nul_refused() -> ParseError:
    return ParseError("NUL characters are not allowed.", code="nul_character")


def check_parsed(data) -> None:
    """Depth and NUL characters of parsed JSON, walked with a stack (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > limits.JSON_DEPTH:
                raise too_deep()
            for key, item in value.items():
                if inputs.has_nul(key):
                    raise nul_refused()
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > limits.JSON_DEPTH:
                raise too_deep()
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and inputs.has_nul(value):
            raise nul_refused()


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"The body is not valid {encoding}.") from error
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise too_deep() from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        check_parsed(data)
        return data


def _check_query_dict(data) -> None:
    for key, values in data.lists():
        if inputs.has_nul(key) or any(inputs.has_nul(v) for v in values if isinstance(v, str)):
            raise nul_refused()


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_query_dict(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_query_dict(result.data)
        return result
