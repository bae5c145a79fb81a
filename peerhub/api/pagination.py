import base64
import binascii
import functools
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class _KnownCountPaginator(DjangoPaginator):
    """A paginator told its count, which it then does not ask the database for."""

    def __init__(self, object_list, per_page, *, known_count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = known_count  # Paginator.count is a cached_property


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages with a total. A view whose whole list's total is kept elsewhere says so with
    `known_count(request)` (None when the request filters the list): that total is used
    instead of a COUNT over every row."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        known = getattr(view, "known_count", None)
        count = known(request) if known is not None else None
        self.django_paginator_class = (
            DjangoPaginator
            if count is None
            else functools.partial(_KnownCountPaginator, known_count=count)
        )
        return super().paginate_queryset(queryset, request, view)


class KeysetPagination(pagination.BasePagination):
    """Pages that follow a cursor instead of a page number (issue 17): a numbered page costs a
    COUNT and an OFFSET over every visible row, which at 100,000 members is most of the time of
    a big list. The cursor holds the last row's values of the list's ordering (the queryset's
    `order_by`, plain field names ending with a unique one, such as ["-created_at", "-pk"]), and
    the next page is the rows after it: an index range, whatever the depth. Only `next` is given;
    there is no `count`. A client that still sends `page` gets a 400 (`cursor_pagination`)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        if "page" in request.query_params:
            raise ParseError(
                _("This list pages with a cursor: follow the `next` link (`page` is not used)."),
                code="cursor_pagination",
            )
        self.request = request
        self.ordering = _ordering(queryset)
        size = self._page_size(request)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(_after(queryset.model, self.ordering, _decode(cursor)))
        rows = list(queryset[: size + 1])
        self.next_values = None
        if len(rows) > size:
            rows = rows[:size]
            self.next_values = [_value(rows[-1], name) for name, _desc in self.ordering]
        return rows

    def _page_size(self, request) -> int:
        try:
            size = int(request.query_params.get(self.page_size_query_param, self.page_size))
        except ValueError:
            size = self.page_size
        return min(max(size, 1), self.max_page_size)

    def get_next_link(self) -> str | None:
        if self.next_values is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, _encode(self.next_values))

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: the `cursor` of the previous answer's "
                "`next` link (opaque).",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most "
                f"{self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]


def _ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    names = list(queryset.query.order_by)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError("KeysetPagination needs a queryset ordered by plain field names.")
    return [(name.lstrip("-"), name.startswith("-")) for name in names]


def _value(row, name: str):
    value = getattr(row, name)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list):
        raise ParseError(_("This cursor is not valid."), code="invalid_cursor")
    return values


def _after(model, ordering: list[tuple[str, bool]], values: list) -> Q:
    """The rows that come after `values` in `ordering`: (a < x) or (a = x and b < y) or …"""
    if len(values) != len(ordering):
        raise ParseError(_("This cursor is not valid."), code="invalid_cursor")
    after, same, bound = Q(pk__in=[]), Q(), Q()
    for position, ((name, descending), raw) in enumerate(zip(ordering, values, strict=True)):
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        try:
            value = field.to_python(raw)
        except (DjangoValidationError, TypeError, ValueError):
            value = None
        if not _storable(value):
            raise ParseError(_("This cursor is not valid."), code="invalid_cursor")
        after |= same & Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        same &= Q(**{name: value})
        if position == 0:
            # Implied by the OR, stated so that the database reads an index range of it.
            bound = Q(**{f"{name}__{'lte' if descending else 'gte'}": value})
    return bound & after


def _storable(value) -> bool:
    """A value the database can compare: not missing, an integer within 64 bits, a datetime
    with its time zone."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) < value < 2**63
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return not timezone.is_naive(value)
    return True
