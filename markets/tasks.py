"""Celery tasks of the markets app: build the client, call one service, log what it did.

Both use public endpoints only, so they run without an API key. Outages and
rate limits are retried with backoff by the decorator; anything else fails
the task for the operator to see.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from markets import connection
from markets.errors import ExchangeUnavailable, RateLimited
from markets.services import discovery, sync

logger = logging.getLogger(__name__)

# Outages and rate limits pass, so these are retried with jittered exponential backoff.
RETRY_ON = (ExchangeUnavailable, RateLimited)


# Daily, so it can afford to wait out a longer outage: about 1, 2, 4, 8, 16 minutes.
@shared_task(
    ignore_result=True,
    autoretry_for=RETRY_ON,
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)
def discover_series_task() -> dict[str, int]:
    """Upsert Kalshi's daily temperature series and verify the stations they settle on."""
    with connection.kalshi_client() as client:
        report = discovery.discover_weather_series(client=client, now=timezone.now())
    logger.info(
        "Series discovery: %d daily temperature series, %d matched (%d verified now), %d mismatched, "
        "%d unmatched, %d without a CLI source, %d city series not listed",
        report.kept,
        len(report.matched),
        len(report.verified),
        len(report.mismatched),
        len(report.unmatched),
        len(report.without_cli_source),
        len(report.missing),
    )
    return {"series": report.kept, "matched": len(report.matched), "mismatched": len(report.mismatched)}


# Every 5 minutes: retries (about 15, 30, 60 s) stay within the interval; after that the next run takes over.
@shared_task(
    ignore_result=True,
    autoretry_for=RETRY_ON,
    retry_backoff=15,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
)
def sync_markets_task(series_tickers: list[str] | None = None) -> dict[str, int]:
    """Refresh events and markets of the given series (default: the active cities')."""
    with connection.kalshi_client() as client:
        report = sync.sync_markets(client=client, now=timezone.now(), series_tickers=series_tickers)
    created = sum(counts.markets.created for counts in report.series.values())
    updated = sum(counts.markets.updated for counts in report.series.values())
    logger.info("Market sync of %d series: %d markets new, %d updated", len(report.series), created, updated)
    for error in report.errors:
        logger.warning("Market sync: %s", error)
    return {"series": len(report.series), "markets_created": created, "markets_updated": updated}


@shared_task(ignore_result=True, soft_time_limit=300)
def check_settlements_task() -> None:
    """Record each recent event's observed high next to what Kalshi settled on (logs differences)."""
    from markets.services.settlement import check_settlements

    now = timezone.now()
    check_settlements(now=now, start=(now - timedelta(days=14)).date())
