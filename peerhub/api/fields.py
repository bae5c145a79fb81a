"""Serializer fields with PeerHub's input rules: the twins of the form fields in
peerhub.inputs, calling the same functions."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from peerhub import inputs


class PlainCharField(serializers.CharField):
    """A one-line text (a display name, a title) with invisible characters stripped before it
    is checked, so "\u200b" alone is as blank as "" is."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            data = inputs.strip_invisible(data)
        return super().run_validation(data)


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing UTC offsets no place uses (`+16:00`)."""

    def enforce_timezone(self, value):
        try:
            inputs.check_utc_offset(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code=error.code) from None
        return super().enforce_timezone(value)


class ReputationPointsField(serializers.IntegerField):
    """Reputation as people see it: a whole number (peerhub.presenters.reputation_int), next
    to the exact decimal the ledger keeps."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "The same reputation rounded to a whole number, to show.")
        super().__init__(**kwargs)

    def to_representation(self, value):
        from peerhub.presenters import reputation_int

        return reputation_int(value)
