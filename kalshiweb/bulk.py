"""Write many rows fast: new rows by COPY on PostgreSQL and one executemany on SQLite; changed rows by executemany.

The ORM's bulk_create prepares every value of every field through the field
classes, which for a 160k-row forecast archive costs several times what the
database does. The rows here are known to be new (the caller has checked their
keys inside the same transaction) and hold plain numbers, short constant
strings, dates and aware datetimes, so they are written as text in the form
Django itself stores: dates 'YYYY-MM-DD', datetimes naive UTC
'YYYY-MM-DD HH:MM:SS[.ffffff]'.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connection, models

from markets.units import stored_utc

_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
Convert = Callable[[object], object]


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Insert ``rows`` (values in the order of ``fields``) into ``model``'s table, in the caller's transaction.

    Every other column but the primary key gets its field's default, as the ORM
    would give it; a column without a default must be among ``fields``.
    """
    if not rows:
        return
    defaults = _defaults(model, fields)
    if defaults:
        extra = tuple(defaults.values())
        fields, rows = [*fields, *defaults], [(*row, *extra) for row in rows]
    concrete = [_concrete(model, name) for name in fields]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(column) for _, column in concrete)
    converters = [_converter(field) for field, _ in concrete]
    if connection.vendor == "postgresql":
        _copy(table, columns, converters, rows)
    else:
        _executemany(table, columns, converters, rows)


def update_rows(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of these saved objects of one model, in one executemany, in the caller's transaction.

    The ORM's bulk_update builds a CASE expression per field and row, which
    costs far more than the database does for a few dozen rows; here every
    value goes through its field's own preparation for the database, as save()
    does, and one statement is sent for all rows.
    """
    if not objects:
        return
    model = type(objects[0])
    concrete = [_concrete(model, name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for _, column in concrete)
    pk = model._meta.pk
    if pk is None or pk.column is None:
        raise TypeError(f"{model.__name__} has no single-column primary key")
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608 - names from the model
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field, _ in concrete] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _concrete(model: type[models.Model], name: str) -> tuple[models.Field[Any, Any], str]:
    """The field and its column, checked to be real (so SQL built from the name is not user input)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a concrete column")
    return field, field.column


def _defaults(model: type[models.Model], given: Sequence[str]) -> dict[str, object]:
    defaults: dict[str, object] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in given:
            continue
        if not field.has_default():
            raise TypeError(f"{model.__name__}.{field.name} has no default: give its value")
        value = field.get_default()
        defaults[field.name] = json.dumps(value) if isinstance(value, list | dict) else value
    return defaults


def _converter(field: models.Field[Any, Any]) -> Convert | None:
    # DateTimeField subclasses DateField: test it first.
    if isinstance(field, models.DateTimeField):
        return _datetime_text
    if isinstance(field, models.DateField):
        return _date_text
    return None


def _copy(table: str, columns: str, converters: list[Convert | None], rows: Sequence[Sequence[object]]) -> None:
    cells = [_copy_cell_of(convert) for convert in converters]
    text = "".join("\t".join([cell(value) for cell, value in zip(cells, row, strict=True)]) + "\n" for row in rows)
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(text)


def _executemany(table: str, columns: str, converters: list[Convert | None], rows: Sequence[Sequence[object]]) -> None:
    marks = ", ".join(["%s"] * len(converters))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model's fields
    params: list[list[Any]] = [
        [
            convert(value) if convert and value is not None else value
            for convert, value in zip(converters, row, strict=True)
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _copy_cell_of(convert: Convert | None) -> Callable[[object], str]:
    """COPY's text for one column's values; dates through ``convert``, the rest by type."""

    def cell(value: object) -> str:
        if value is None:
            return "\\N"
        if convert is not None:
            return str(convert(value))
        return _plain_cell(value)

    return cell


@lru_cache(maxsize=4_096)  # constants (source, model, defaults) repeat on every row
def _escaped(text: str) -> str:
    return text.translate(_COPY_SPECIAL)


def _plain_cell(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _escaped(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a column value")


@lru_cache(maxsize=65_536)  # an archive repeats each issue time over a dozen rows
def _datetime_text(value: object) -> str:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise TypeError(f"{value!r} is not an aware datetime")
    return stored_utc(value)


@lru_cache(maxsize=65_536)
def _date_text(value: object) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{value!r} is not a date")
    return value.isoformat()
