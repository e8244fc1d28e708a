"""Per-source health: last success, failures in a row, latency, and what the last run stored."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F

from weather.models import SourceHealth


def record_success(source: str, *, now: datetime, latency_ms: float, stored: int, rejected: int) -> None:
    SourceHealth.objects.update_or_create(
        source=source,
        defaults={
            "last_success_at": now,
            "consecutive_failures": 0,
            "last_latency_ms": round(latency_ms, 1),
            "last_stored": stored,
            "last_rejected": rejected,
        },
    )


def record_failure(source: str, *, now: datetime, error: str) -> None:
    row, _ = SourceHealth.objects.get_or_create(source=source)
    SourceHealth.objects.filter(pk=row.pk).update(
        last_failure_at=now,
        last_error=error[:2000],
        consecutive_failures=F("consecutive_failures") + 1,
        total_failures=F("total_failures") + 1,
    )
