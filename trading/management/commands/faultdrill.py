"""``manage.py faultdrill --minutes N --seed S``: trade against the local exchange with seeded faults, then audit."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trading.drill.database import throwaway_database
from trading.drill.report import report
from trading.drill.run import DrillSpec, run_drill

# Each fault makes the product or the exchange log a warning (the exchange's handler and the feed's resync task,
# an error when the connection is gone): thousands of them. They are what the drill counts; the report says them once.
LOUD = ("websockets.server", "asyncio")


@contextlib.contextmanager
def quiet(wanted: bool) -> Iterator[None]:
    if not wanted:
        yield
        return
    levels = {name: logging.getLogger(name).level for name in LOUD}
    logging.disable(logging.WARNING)
    for name in LOUD:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class Command(BaseCommand):
    help = (
        "Run the product's trading (real Kalshi client and broker, trading cycles, the WebSocket feed, "
        "reconciliation) against the local exchange on loopback while faults chosen by the seed hit it: 429s, "
        "503s, creates that hang past the client's timeout, orders unreadable just after creation, and feed "
        "gaps, duplicates, reorders, stale books and dropped connections. Then report orders, faults by kind, and "
        "duplicate orders, lost or double-counted fills, limit breaches and reconciliation differences: those "
        "four must be zero, or the command exits 1. It runs in a throwaway SQLite database (never the configured "
        "one) and never uses configured Kalshi credentials: it makes its own RSA key for the local exchange, "
        "kept in memory. The clock passed to the product as `now` is the wall clock (UTC)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=float, required=True, help="Wall-clock run length (fractions allowed).")
        parser.add_argument("--seed", type=int, required=True, help="Chooses the world, the faults and their rates.")
        parser.add_argument(
            "--faults-min",
            type=int,
            default=0,
            help="Run on past --minutes until this many faults were injected (at most 5x as long, plus a minute); "
            "fewer fails the drill.",
        )
        parser.add_argument(
            "--cities",
            nargs="+",
            default=(),
            help="Cities to list events for, by name or daily-high series ticker (default: 4 chosen by the seed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["minutes"] <= 0:
            raise CommandError("--minutes must be positive")
        spec = DrillSpec(
            minutes=options["minutes"],
            seed=options["seed"],
            faults_min=options["faults_min"],
            cities=tuple(options["cities"]),
        )
        say = self.stdout.write
        say(f"Fault drill: {spec.minutes:g} min, seed {spec.seed}, in a throwaway database")
        with throwaway_database(), quiet(options["verbosity"] < 2):
            try:
                result = run_drill(spec, say=say)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        say(report(result))
        if not result.passed:
            raise CommandError("the fault drill failed: see the counts above", returncode=1)
