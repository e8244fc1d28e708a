"""Project-wide tables: component heartbeats, and the base for one-row settings tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from django.db import models


class SingletonModel(models.Model):
    """A table that holds exactly one row (pk=1), such as the risk limits.

    ``load()`` creates the row with field defaults on first use, so code never
    has to handle "not configured yet".
    """

    SINGLETON_PK: ClassVar[int] = 1

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} is a single settings row and cannot be deleted")

    @classmethod
    def load(cls) -> Self:
        obj: Self = cls.objects.get_or_create(pk=cls.SINGLETON_PK)[0]  # type: ignore[attr-defined]
        return obj


class HeartbeatQuerySet(models.QuerySet["Heartbeat"]):
    def beat(self, component: str, *, now: datetime, detail: dict[str, Any] | None = None) -> None:
        """Record that ``component`` was alive at ``now``."""
        self.update_or_create(component=component, defaults={"last_seen_at": now, "detail": detail or {}})

    def age_of(self, component: str, *, now: datetime) -> timedelta | None:
        """How long ago ``component`` last beat, or None if it never has."""
        seen = self.filter(component=component).values_list("last_seen_at", flat=True).first()
        return None if seen is None else now - seen


class Heartbeat(models.Model):
    """The last sign of life of a background component (worker, scheduler, market feed).

    Stored in the database so the web process can report on workers running in
    other processes or on other machines.
    """

    component = models.CharField(max_length=64, unique=True)
    last_seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        ordering = ["component"]

    def __str__(self) -> str:
        return f"{self.component} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}Z"
