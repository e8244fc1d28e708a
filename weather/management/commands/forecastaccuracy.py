"""``manage.py forecastaccuracy``: MAE and bias of every source by lead time, against the observed high.

Each row says what its model forecasts (``forecasts``): the day's high, or a
predictor of it such as the HRRR/NBM temperature at 15:00 local, whose error
against the high is its bias as a predictor, explained under the table.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max, Min, Q

from weather.models import City, ForecastSnapshot
from weather.services.accuracy import forecast_errors, summarise
from weather.services.truth import observed_highs


class Command(BaseCommand):
    help = "Score each forecast source and model by lead time against the observed climate-day high."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", help="City name, e.g. 'New York'.")
        parser.add_argument("--series", help="Or the city's Kalshi series, e.g. KXHIGHNY.")
        parser.add_argument("--start", type=date.fromisoformat, help="First climate day (default: first forecast).")
        parser.add_argument("--end", type=date.fromisoformat, help="Last climate day (default: last forecast).")
        parser.add_argument("--max-lead", type=int, default=7)
        parser.add_argument("--json", type=Path, help="Also write the table as JSON to this path.")

    def handle(self, *args: Any, **options: Any) -> None:
        city = self._city(options["city"], options["series"])
        start, end = self._period(city, options["start"], options["end"])
        errors = forecast_errors(city, start, end, max_lead=options["max_lead"])
        skills = summarise(errors)
        truth = Counter(high.source for high in observed_highs(city, start, end).values())
        self.stdout.write(f"{city.name} ({city.station_icao}), climate days {start} to {end}")
        self.stdout.write("Observed highs from: " + ", ".join(f"{s} {n}" for s, n in truth.most_common()))
        self.stdout.write(f"{'source':<24}{'model':<30}{'lead':>5}{'n':>7}{'MAE °F':>9}{'bias °F':>9}  forecasts")
        for skill in skills:
            self.stdout.write(
                f"{skill.source:<24}{skill.model:<30}{skill.lead_days:>5}{skill.n:>7}"
                f"{skill.mae_f:>9.2f}{skill.bias_f:>+9.2f}  {skill.quantity}"
            )
        if not skills:
            self.stdout.write("No forecast of these days has an observed high to score against.")
        for quantity in sorted({s.quantity for s in skills} - {ForecastSnapshot.Quantity.HIGH}):
            self.stdout.write(
                f"{quantity}: {ForecastSnapshot.Quantity(quantity).label}, not a forecast of the high.\n"
                "  Scored against the high all the same: its bias is the correction a model of the high must apply."
            )
        if options["json"]:
            self._write_json(options["json"], city, start, end, truth, skills)

    def _city(self, name: str | None, series: str | None) -> City:
        if bool(name) == bool(series):
            raise CommandError("Give exactly one of --city or --series.")
        query = Q(name__iexact=name) if name else Q(high_series_ticker=series) | Q(low_series_ticker=series)
        city = City.objects.filter(query).first()
        if city is None:
            raise CommandError(f"No city matches {name or series!r}.")
        return city

    def _period(self, city: City, start: date | None, end: date | None) -> tuple[date, date]:
        span = ForecastSnapshot.objects.filter(city=city).aggregate(first=Min("target_date"), last=Max("target_date"))
        start = start or span["first"]
        end = end or span["last"]
        if start is None or end is None:
            raise CommandError(f"No forecasts are stored for {city.name}; import or fetch some first.")
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}.")
        return start, end

    def _write_json(
        self, path: Path, city: City, start: date, end: date, truth: Counter[str], skills: list[Any]
    ) -> None:
        payload = {
            "city": city.name,
            "station": city.station_icao,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "observed_from": dict(truth),
            "skill": [
                {
                    "source": s.source,
                    "model": s.model,
                    "lead_days": s.lead_days,
                    "n": s.n,
                    "mae_f": round(s.mae_f, 4),
                    "bias_f": round(s.bias_f, 4),
                    "quantity": s.quantity,
                }
                for s in skills
            ],
        }
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
