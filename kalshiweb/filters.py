"""Query filters the API's lists share: values the database can take, or a 400 naming the parameter.

A filter value the form accepts but the database cannot hold (an id past 64 bits, a time whose UTC
falls outside years 1-9999) used to reach the query and fail there as a 500; these refuse it first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

MAX_ID = 2**63 - 1  # the largest BigAutoField key


class IdFilter(django_filters.NumberFilter):
    """A primary or foreign key: a whole number from 1 to the largest key."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: Any) -> datetime | None:
        try:
            when = super().to_python(value)
            return when.astimezone(UTC) if when is not None else None
        except OverflowError as exc:
            raise ValidationError("Out of range: give a time between years 1 and 9999 in UTC.", code="invalid") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time with its offset, as UTC."""

    field_class = UtcIsoDateTimeField
