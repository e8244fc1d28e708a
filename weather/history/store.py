"""Rows for Observation and ForecastSnapshot, written in idempotent, committed batches.

Readers hand rows to a :class:`BatchWriter` one line at a time. The writer keeps
at most one batch in memory, so memory stays flat however long the file; each
batch is one transaction, which checks the keys already stored (one range query
per source, city and model), inserts the new rows in bulk (kalshiweb.bulk)
and bulk-updates the changed ones. Counting against stored keys, rather than trusting
``ignore_conflicts``, gives the same new/updated/unchanged counts on SQLite and
PostgreSQL. A re-import of the same file finds every key and reports it unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

from django.db import transaction
from django.utils import timezone

from kalshiweb.bulk import insert_rows
from markets.history.readers import MalformedLine
from weather.history.parse import RowProblem, low_not_above_high
from weather.models import ForecastSnapshot, Observation
from weather.sources.base import HOURS_PER_CLIMATE_DAY

BATCH_SIZE = 5_000
OBSERVATION_FIELDS = frozenset({"high_f", "low_f", "is_final", "reported_at"})


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(frozen=True)
class ObservationRow:
    """What one line says about one (city, climate day, source).

    ``values`` holds only the fields the line states: a GHCN TMAX line says
    nothing about the low, so importing it never blanks a stored low.
    """

    city_id: int
    day: date
    source: str
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.values) - OBSERVATION_FIELDS
        if unknown:
            raise ValueError(f"not Observation fields: {sorted(unknown)}")

    @property
    def key(self) -> tuple[int, date, str]:
        return (self.city_id, self.day, self.source)

    def merged(self, other: ObservationRow) -> ObservationRow:
        """Both lines' fields (TMAX and TMIN of one day); a field stated twice must agree."""
        for name, value in other.values.items():
            if name in self.values and self.values[name] != value:
                raise RowProblem(f"{name} of {self.day} is given again as {value!r}, earlier as {self.values[name]!r}")
        values = {**self.values, **other.values}
        low_not_above_high(values.get("low_f"), values.get("high_f"))
        return replace(self, values=values)

    @property
    def known_at(self) -> datetime | None:
        reported: datetime | None = self.values.get("reported_at")
        return reported


@dataclass(frozen=True)
class ForecastRow:
    """One forecast of one climate day as it was known at ``available_at`` (never before).

    ``n_hours`` is how much of the climate day the values cover (a partial day's
    maximum is not the day's high), ``quantity`` what ``high_f`` holds
    (ForecastSnapshot.Quantity): the day's high unless a file says otherwise.
    """

    source: str
    model: str
    city_id: int
    target_date: date
    available_at: datetime
    issued_at: datetime | None
    high_f: float | None
    low_f: float | None
    n_hours: int = HOURS_PER_CLIMATE_DAY
    quantity: str = ForecastSnapshot.Quantity.HIGH

    def __post_init__(self) -> None:
        for name, value in (("available_at", self.available_at), ("issued_at", self.issued_at)):
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"ForecastRow.{name} must be timezone-aware, got {value!r}")
        if self.issued_at is not None and self.issued_at > self.available_at:
            raise ValueError("issued_at is after available_at")
        if not 0 < self.n_hours <= HOURS_PER_CLIMATE_DAY:
            raise ValueError(f"ForecastRow.n_hours {self.n_hours} is outside 1..{HOURS_PER_CLIMATE_DAY}")

    @property
    def key(self) -> tuple[str, str, int, date, datetime]:
        return (self.source, self.model, self.city_id, self.target_date, self.available_at)

    def merged(self, other: ForecastRow) -> ForecastRow:
        if other != self:
            raise RowProblem(
                f"the {self.model or self.source} forecast of {self.target_date} available at "
                f"{self.available_at:%Y-%m-%dT%H:%MZ} is given twice with different values"
            )
        return self

    @property
    def known_at(self) -> datetime:
        return self.available_at


class Row(Protocol):
    @property
    def key(self) -> Hashable: ...

    @property
    def known_at(self) -> datetime | None: ...

    def merged(self, other: Self) -> Self: ...


R = TypeVar("R", bound=Row)


class BatchWriter(Generic[R]):
    """Collects one file's rows and writes them a batch at a time.

    Rows known only after ``now`` are dropped and counted in ``future``: an
    import must not store what nobody could have known yet. Call ``flush`` once
    the reader is done, and also before letting a MalformedLine propagate, so
    that every row before the bad line is kept.
    """

    def __init__(
        self, path: Path, upsert: Callable[[list[R]], Counts], *, now: datetime, batch_size: int = BATCH_SIZE
    ) -> None:
        self.path, self.now = path, now
        self.counts = Counts()
        self.future = 0
        self._upsert, self._batch_size = upsert, batch_size
        self._pending: dict[Hashable, tuple[R, int]] = {}

    def add(self, row: R, line: int) -> None:
        known = row.known_at
        if known is not None and known > self.now:
            self.future += 1
            return
        earlier = self._pending.get(row.key)
        if earlier is not None:
            try:
                self._pending[row.key] = (earlier[0].merged(row), earlier[1])
            except RowProblem as exc:
                raise MalformedLine(self.path, line, f"{exc} (line {earlier[1]})") from None
            return
        if len(self._pending) >= self._batch_size:
            self.flush()
        self._pending[row.key] = (row, line)

    def flush(self) -> None:
        if self._pending:
            self.counts.add(self._upsert([row for row, _ in self._pending.values()]))
            self._pending = {}


_OBSERVATION_INSERT = ("city", "date", "source", "high_f", "low_f", "is_final", "reported_at", "received_at")
_OBSERVATION_STORED = ("id", "date", "high_f", "low_f", "is_final", "reported_at")
_FORECAST_INSERT = (
    "source",
    "model",
    "city",
    "target_date",
    "issued_at",
    "available_at",
    "fetched_at",
    "high_f",
    "low_f",
    "n_hours",
    "quantity",
)
# What a re-import may correct under a stored key (see upsert_forecasts).
_FORECAST_VALUES = ("issued_at", "high_f", "low_f", "n_hours", "quantity")


def upsert_observations(rows: list[ObservationRow]) -> Counts:
    """Create new observations and update the fields a row states when they changed; one transaction."""
    counts = Counts()
    received = timezone.now()  # what received_at's auto_now stamps
    to_create: list[tuple[object, ...]] = []
    to_update: list[Observation] = []
    changed_fields: set[str] = set()
    with transaction.atomic():
        for (source, city_id), group in _grouped(rows, lambda r: (r.source, r.city_id)).items():
            existing = _stored_observations(source, city_id, group)
            for row in group:
                stored = existing.get(row.day)
                if stored is None:
                    to_create.append(_observation_values(row, received))
                    continue
                changed = {name for name, value in row.values.items() if stored[name] != value}
                if not changed:
                    counts.unchanged += 1
                    continue
                # Every stored field is carried, so writing the union of changed fields is safe.
                values = {name: stored[name] for name in OBSERVATION_FIELDS} | row.values
                to_update.append(Observation(id=stored["id"], received_at=received, **values))
                changed_fields |= changed
        insert_rows(Observation, _OBSERVATION_INSERT, to_create)
        if to_update:
            fields = [*sorted(changed_fields), "received_at"]
            Observation.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def upsert_forecasts(rows: list[ForecastRow]) -> Counts:
    """Create new snapshots and correct stored ones whose values differ; one transaction.

    A snapshot is keyed by when it became available, so a live fetch never
    collides with an archived one; a differing value under the same key can
    only be the same archive read again after a fix, and then the file wins.
    """
    counts = Counts()
    fetched = timezone.now()  # what fetched_at's auto_now_add stamps
    to_create: list[tuple[object, ...]] = []
    to_update: list[ForecastSnapshot] = []
    with transaction.atomic():
        for (source, model, city_id), group in _grouped(rows, lambda r: (r.source, r.model, r.city_id)).items():
            existing = _stored_forecasts(source, model, city_id, group)
            for row in group:
                stored = existing.get((row.target_date, row.available_at))
                values = {name: getattr(row, name) for name in _FORECAST_VALUES}
                if stored is None:
                    to_create.append(_forecast_values(row, fetched))
                elif stored[1:] == tuple(values.values()):
                    counts.unchanged += 1
                else:
                    to_update.append(ForecastSnapshot(id=stored[0], **values))
        insert_rows(ForecastSnapshot, _FORECAST_INSERT, to_create)
        ForecastSnapshot.objects.bulk_update(to_update, list(_FORECAST_VALUES), batch_size=BATCH_SIZE)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def _stored_observations(source: str, city_id: int, group: list[ObservationRow]) -> dict[date, dict[str, Any]]:
    # Files are in date order, so a batch spans a narrow range of days.
    days = [row.day for row in group]
    stored = Observation.objects.filter(source=source, city_id=city_id, date__range=(min(days), max(days)))
    return {values["date"]: values for values in stored.values(*_OBSERVATION_STORED)}


def _stored_forecasts(
    source: str, model: str, city_id: int, group: list[ForecastRow]
) -> dict[tuple[date, datetime], tuple[Any, ...]]:
    """(target_date, available_at) -> (id, *_FORECAST_VALUES) of the snapshots stored in the batch's range."""
    available = [row.available_at for row in group]
    targets = [row.target_date for row in group]
    stored = ForecastSnapshot.objects.filter(
        source=source,
        model=model,
        city_id=city_id,
        available_at__range=(min(available), max(available)),
        target_date__range=(min(targets), max(targets)),
    ).values_list("target_date", "available_at", "id", *_FORECAST_VALUES)
    return {(row[0], row[1]): row[2:] for row in stored}


def _observation_values(row: ObservationRow, received: datetime) -> tuple[object, ...]:
    values = row.values
    return (
        row.city_id,
        row.day,
        row.source,
        values.get("high_f"),
        values.get("low_f"),
        values.get("is_final", False),
        values.get("reported_at"),
        received,
    )


def _forecast_values(row: ForecastRow, fetched: datetime) -> tuple[object, ...]:
    return (
        row.source,
        row.model,
        row.city_id,
        row.target_date,
        row.issued_at,
        row.available_at,
        fetched,
        row.high_f,
        row.low_f,
        row.n_hours,
        row.quantity,
    )


K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def _grouped(rows: list[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups
