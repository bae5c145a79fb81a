"""django-filter with PeerHub's input rules (peerhub.inputs): datetimes with a UTC offset no
place uses and integers past 64 bits are a 400 naming the parameter, never a database error.

Every FilterSet of the project derives from `FilterSet` here, and the default filter backend
builds the filters of a view's `filterset_fields` from it too."""

from copy import deepcopy

from django.core.validators import MaxValueValidator
from django.db import models
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from django_filters.rest_framework.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from peerhub import inputs, limits


class IsoDateTimeField(filter_fields.IsoDateTimeField):
    def to_python(self, value):
        result = super().to_python(value)
        return inputs.check_utc_offset(result) if result is not None else None


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class NumberFilter(filters.NumberFilter):
    """A number within what a 64-bit column holds (django-filter's own cap is 1e50)."""

    def get_max_validator(self):
        return MaxValueValidator(limits.BIGINT_MAX)


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    """An integer (`?root=1.5` is a 400, not a silent rounding) that fits a 64-bit column."""

    field_class = inputs.IntegerField

    def get_max_validator(self):
        return None  # the field's own bounds


_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)

FILTER_DEFAULTS = deepcopy(FILTER_FOR_DBFIELD_DEFAULTS)
FILTER_DEFAULTS[models.DateTimeField] = {"filter_class": DateTimeFilter}
FILTER_DEFAULTS[models.DecimalField] = {"filter_class": NumberFilter}
FILTER_DEFAULTS[models.FloatField] = {"filter_class": NumberFilter}
FILTER_DEFAULTS.update({field: {"filter_class": IntegerFilter} for field in _INTEGER_FIELDS})


class FilterSet(filters.FilterSet):
    FILTER_DEFAULTS = FILTER_DEFAULTS


class DjangoFilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet
