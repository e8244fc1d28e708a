"""``manage.py runexchange``: a local Kalshi-compatible exchange on 127.0.0.1 (REST and WebSocket)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from localexchange.exchange import Exchange
from localexchange.makers import Maker, random_walk, recorded
from localexchange.makers import Path as PricePath
from localexchange.server import running
from localexchange.ws import Faults, LocalFeed
from markets.credentials import CredentialError, resolve_credentials
from markets.feed.service import temperature_markets
from markets.models import Market, Trade
from trading.snapshot import fee_schedule

MAKER = "local-maker"
MAKER_BALANCE = Decimal(1_000_000)
QUOTE_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Run a local Kalshi-compatible exchange: Kalshi's REST paths (V2 orders, balance, order books) and "
        "WebSocket (books, trades, fills) for the open temperature markets, with seeded faults on request."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--rest-port", type=int, default=8765)
        parser.add_argument("--ws-port", type=int, default=8766)
        parser.add_argument("--balance", type=_dollars, default=Decimal(1000), help="Dollars per member (1000).")
        parser.add_argument("--key-id", help="Another member's Kalshi key id (with --public-key).")
        parser.add_argument("--public-key", type=Path, help="That member's public key, PEM.")
        parser.add_argument(
            "--faults",
            type=_faults,
            default=Faults(),
            help="WebSocket: seed=1,gap=0.01,duplicate=0.01,reorder=0.01,drop=500,stale=0.001; "
            "REST: latency=0.2,limit=0.05,error=0.02,hang=0.01,hang_seconds=30,unreadable=2",
        )
        parser.add_argument(
            "--makers", action="store_true", help="Run market makers quoting both sides of every market."
        )
        parser.add_argument(
            "--replay",
            type=date.fromisoformat,
            help="Open that climate day's markets; makers follow its recorded prints.",
        )
        parser.add_argument("--speed", type=float, default=60.0, help="Replay seconds per wall second (60).")
        parser.add_argument("--seconds", type=float, help="Stop after this many seconds (default: run until stopped).")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = self._keys(options["key_id"], options["public_key"])
        exchange = Exchange()
        markets = self._markets(options["replay"])
        for market in markets:
            exchange.open_market(market.ticker, fee_schedule(market.event, [market]))
        for member in keys:
            exchange.deposit(member, options["balance"])
        feed = LocalFeed(exchange, keys, faults=options["faults"])
        maker, clock = None, _wall_clock
        if options["replay"] is not None:
            maker, clock = replay(markets, options["replay"], speed=options["speed"])
            exchange.deposit(maker.member, MAKER_BALANCE)
        elif options["makers"]:
            maker = live_maker(markets, seed=options["faults"].seed)
            exchange.deposit(maker.member, MAKER_BALANCE)
        # A replayed day settles each market as Kalshi did, when the replay reaches that moment.
        settlements = _settlements(markets) if options["replay"] is not None else []
        asyncio.run(self._serve(feed, options, len(markets), maker, clock, settlements))

    async def _serve(
        self,
        feed: LocalFeed,
        options: dict[str, Any],
        opened: int,
        maker: Maker | None,
        clock: Callable[[], datetime],
        settlements: list[tuple[datetime, str, str]],
    ) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if options["seconds"] is not None:
            loop.call_later(options["seconds"], stop.set)
        host = options["host"]
        async with running(feed, host=host, rest_port=options["rest_port"], ws_port=options["ws_port"]) as urls:
            self.stdout.write(
                f"Local exchange: {opened} markets, {len(feed.keys)} member(s) with ${options['balance']:,.2f} each\n"
                f"  REST      {urls.rest_url}\n  WebSocket {urls.ws_url}\n"
                f"Point the product at it: KALSHI_API_BASE={urls.rest_url} KALSHI_WS_BASE={urls.ws_url}\n"
                + (f"Makers quote every market ({_describe(options)}).\n" if maker else "")
                + "Ctrl-C stops it."
            )
            while not stop.is_set():
                while settlements and settlements[0][0] <= clock():
                    _, ticker, result = settlements.pop(0)
                    paid = feed.exchange.settle(ticker, result)
                    self.stdout.write(f"Settled {ticker} {result.upper()}: paid ${sum(paid.values(), Decimal(0)):,.2f}")
                if maker is not None:
                    await maker.requote(feed, clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=QUOTE_SECONDS)
        self.stdout.write("Local exchange stopped.")

    def _keys(self, key_id: str | None, public_key: Path | None) -> dict[str, RSAPublicKey]:
        keys: dict[str, RSAPublicKey] = {}
        try:
            configured = resolve_credentials()
        except CredentialError as exc:
            raise CommandError(f"The configured Kalshi API key cannot be used: {exc}") from exc
        if configured is not None:
            keys[configured.key_id] = configured.private_key.public_key()
        if bool(key_id) != bool(public_key):
            raise CommandError("Give --key-id and --public-key together.")
        if key_id and public_key:
            try:
                loaded = load_pem_public_key(public_key.read_bytes())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--public-key {public_key}: not a readable PEM public key ({exc})") from exc
            if not isinstance(loaded, RSAPublicKey):
                raise CommandError(f"--public-key {public_key}: Kalshi keys are RSA, this one is not")
            keys[key_id] = loaded
        if not keys:
            raise CommandError(
                "No member to trade: configure a Kalshi API key (KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, "
                "or one in the admin) or give --key-id and --public-key."
            )
        return keys

    def _markets(self, day: date | None) -> list[Market]:
        tickers = temperature_markets(timezone.now(), day=day)
        if not tickers:
            if day is not None:
                raise CommandError(f"No temperature markets of {day} in the database: import history first.")
            raise CommandError(
                "No open temperature markets in the database to list: run `manage.py syncmarkets --discover` first "
                "(or replay a stored day with --replay YYYY-MM-DD)."
            )
        return list(Market.objects.filter(ticker__in=tickers).select_related("event__series"))


def live_maker(markets: Sequence[Market], *, seed: int) -> Maker:
    """Quotes that wander (seeded) around each market's last known price."""
    rng = random.Random(seed)  # noqa: S311 - replayable quotes, not secrets
    paths = {m.ticker: random_walk(_last_price(m), step=Decimal("0.005"), rng=rng) for m in markets}
    return Maker(MAKER, paths)


def replay(markets: Sequence[Market], day: date, *, speed: float) -> tuple[Maker, Callable[[], datetime]]:
    """Makers that follow the day's recorded prints, on a clock that runs through the day ``speed`` times as fast."""
    paths: dict[str, PricePath] = {}
    starts = []
    for market in markets:
        prints = list(
            Trade.objects.filter(market=market).order_by("created_time").values_list("created_time", "yes_price")
        )
        times, prices = [t for t, _ in prints], [p for _, p in prints]
        paths[market.ticker] = recorded(times, prices, before=prices[0] if prices else Decimal("0.50"))
        starts.extend(times[:1])
    if not starts:
        raise CommandError(f"No recorded prints of {day}'s markets: import the trade tapes first.")
    began, wall = min(starts), time.monotonic()
    return Maker(MAKER, paths), lambda: began + timedelta(seconds=(time.monotonic() - wall) * speed)


def _settlements(markets: Sequence[Market]) -> list[tuple[datetime, str, str]]:
    """(when, ticker, result) of every market that settled yes or no, in time order."""
    due = []
    for market in markets:
        when = market.settled_at or market.close_time
        if when is not None and market.result in ("yes", "no"):
            due.append((when, market.ticker, str(market.result)))
    return sorted(due)


def _last_price(market: Market) -> Decimal:
    if market.yes_bid is not None and market.yes_ask is not None and market.yes_ask > market.yes_bid:
        return (market.yes_bid + market.yes_ask) / 2
    last = Trade.objects.filter(market=market).order_by("-created_time").values_list("yes_price", flat=True).first()
    return last if last is not None else Decimal("0.50")


def _describe(options: dict[str, Any]) -> str:
    if options["replay"] is not None:
        return f"replaying the prints of {options['replay']} at {options['speed']:g}x"
    return "around each market's last price, seeded"


def _wall_clock() -> datetime:
    return timezone.now()


def _dollars(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount of dollars: {text!r}") from None
    if amount <= 0:
        raise argparse.ArgumentTypeError(f"a balance is positive, got {text}")
    return amount


def _faults(text: str) -> Faults:
    """``seed=1,gap=0.01,duplicate=0.01,reorder=0.01,drop=500`` as Faults."""
    names = {
        "seed": "seed",
        "gap": "gap_rate",
        "duplicate": "duplicate_rate",
        "reorder": "reorder_rate",
        "drop": "drop_after",
        "latency": "latency",
        "limit": "rate_limit_rate",
        "error": "server_error_rate",
        "hang": "hang_rate",
        "hang_seconds": "hang_seconds",
        "unreadable": "unreadable_seconds",
        "stale": "stale_rate",
    }
    values: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        if name not in names or not value:
            raise argparse.ArgumentTypeError(f"unknown fault {part!r} (known: {', '.join(names)})")
        values[names[name]] = int(value) if name in ("seed", "drop") else float(value)
    return Faults(**values)
