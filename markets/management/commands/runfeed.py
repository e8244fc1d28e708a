"""``manage.py runfeed [--seconds N] [--url WS_URL]``: stream and store Kalshi's books, trades and account updates."""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.connection import configured_signer
from markets.credentials import CredentialError
from markets.feed.protocol import ws_path
from markets.feed.service import FeedRecorder, run_feed

NO_KEY = (
    "The feed needs a Kalshi API key (Kalshi authenticates every WebSocket connection): set "
    "KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, or add a key in the admin (Markets, API credentials)."
)


class Command(BaseCommand):
    help = (
        "Stream order books, trades, fills, orders, positions and lifecycle of the open temperature markets "
        "over Kalshi's WebSocket, store trades and changed books, and report the feed's state. Ctrl-C stops it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, help="Stop after this many seconds (default: run until stopped).")
        parser.add_argument(
            "--url", type=_ws_url, help="WebSocket URL (default: KALSHI_WS_URL of the configured environment)."
        )
        parser.add_argument(
            "--day", type=date.fromisoformat, help="Watch that climate day's markets (a replay on the local exchange)."
        )

    def handle(self, *args: Any, seconds: float | None, url: str | None, day: date | None, **options: Any) -> None:
        try:
            signer = configured_signer()
        except CredentialError as exc:
            raise CommandError(f"The Kalshi API key cannot be used: {exc}") from exc
        if signer is None:
            raise CommandError(NO_KEY)
        target = url or settings.KALSHI_WS_URL
        self.stdout.write(f"Market feed: {target} (Kalshi {settings.KALSHI_ENV}, {settings.TRADING_MODE} mode)")
        recorder = asyncio.run(self._run(signer, target, seconds, day))
        self.stdout.write(_summary(recorder))

    async def _run(self, signer: Any, url: str, seconds: float | None, day: date | None) -> FeedRecorder:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if seconds is not None:
            loop.call_later(seconds, stop.set)
        return await run_feed(signer, stop, url=url, day=day)


def _summary(recorder: FeedRecorder) -> str:
    detail = recorder.detail()
    return (
        f"Feed stopped: {detail['frames']:,} frames from {detail['markets']} markets; "
        f"{detail['trades_stored']:,} new trades and {detail['book_snapshots_stored']:,} book snapshots stored; "
        f"{detail['gaps']} sequence gap(s), {detail['reconnects']} reconnect(s)"
        + (f"; last error: {detail['last_error']}" if detail["last_error"] else "")
    )


def _ws_url(text: str) -> str:
    try:
        ws_path(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
