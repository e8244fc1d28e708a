"""NWS city forecasts and observations from the twice-daily list-server e-mails (2021-2022).

forecasts/nws-forecasts-2021-2022.csv (speegled/weather_forecasts, the source of
TidyTuesday 2022-12-20) has one row per (date, city) with the forecasts each
e-mail made for that date. The e-mails carry the NWS "Selected Cities" product
(FPUS20 KWBN, SCS01-04), which is issued on a fixed UTC schedule all year: the
morning one at 12:50Z (headed "850 AM EDT" in June, "750 AM EST" in January) and
the evening one at 00:50Z the next UTC day ("850 PM EDT" / "750 PM EST"); the
list server relayed the parts within two minutes (e.g. 12:50:52-12:51:49Z on
2022-01-06), as the e-mails kept in speegled/weather_forecasts (data/email_data/)
show. issued_at is that issue time; available_at adds an hour for a late
or re-sent product: later than any delivery we saw, and an hour is little skill.

Each forecast column becomes one ForecastSnapshot, source ``nws-email``, model =
the column's lead, issued by the e-mail it came from (target day D):

- ``forecast_hi_2_prev_PM`` -> ``2_prev_PM``: evening of D-2, issued 00:50Z on D-1
- ``forecast_hi_prev_AM`` -> ``prev_AM``: morning of D-1, issued 12:50Z on D-1
- ``forecast_hi_prev_PM`` -> ``prev_PM``: evening of D-1, issued 00:50Z on D
- ``forecast_hi_current_AM`` -> ``current_AM``: morning of D, issued 12:50Z on D

The forecast is of the table's daytime high, which is the climate day's high on
most days (see the observations below); n_hours is 24 as for any whole-day value.

Only highs are stored. The table's lows are the *night after* D (the e-mails
forecast "tonight's low"): forecast_lo_* for D matches GHCN TMIN of D+1 (MAE
2.2 °F at Philadelphia) far better than of D (3.9 °F), so none is a forecast of
D's climate-day minimum, and storing one as such would invent it. For the same
reason forecast_lo_current_PM (the only value of the D evening e-mail) is unused.

The observed values go in as Observation source ``nws-city`` only where the
table's station is the settlement station (README: NEW_YORK_CITY is Central
Park, MIAMI_BEACH's observations equal KMIA): high_f = actual_hi_next_AM, the
next morning's report of the day, reported_at = that e-mail's issue time, not
final. It is the *daytime* high: it equals GHCN's TMAX on 308 of 352 NYC days
and 348 of 352 Miami days and is never above it. Lows are not stored (the
reported lows are night lows, like the forecasts').

Cities are mapped by the explicit :data:`CITIES` table, only where the table's
station is our settlement station or close enough to be a documented forecast
input; every other city is skipped. 'NA' means missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from kalshiweb.progress import Progress
from weather.history.parse import iso_date, optional_whole_f, parsed_rows
from weather.history.store import ForecastRow, ObservationRow
from weather.models import Observation

SOURCE = "nws-email"
MISSING = "NA"
AM_ISSUE = time(12, 50, tzinfo=UTC)  # on the e-mail's own date
PM_ISSUE = time(0, 50, tzinfo=UTC)  # on the day after the e-mail's date
AVAILABLE_AFTER_ISSUE = timedelta(hours=1)
COLUMNS = (
    "date",
    "city",
    "state",
    "forecast_hi_2_prev_PM",
    "forecast_lo_prev_AM",
    "forecast_hi_prev_AM",
    "forecast_lo_prev_PM",
    "forecast_hi_prev_PM",
    "forecast_lo_current_AM",
    "forecast_hi_current_AM",
    "forecast_lo_current_PM",
    "actual_lo_current_PM",
    "actual_hi_current_PM",
    "actual_lo_next_AM",
    "actual_hi_next_AM",
)


@dataclass(frozen=True)
class Email:
    """One e-mail relative to the target day: ``days`` after it (negative: before), morning or evening."""

    days: int
    evening: bool

    def issued(self, target: date) -> datetime:
        day = target + timedelta(days=self.days)
        if self.evening:
            return datetime.combine(day + timedelta(days=1), PM_ISSUE)
        return datetime.combine(day, AM_ISSUE)


# column -> (model, the e-mail it came from)
FORECASTS: dict[str, tuple[str, Email]] = {
    "forecast_hi_2_prev_PM": ("2_prev_PM", Email(-2, evening=True)),
    "forecast_hi_prev_AM": ("prev_AM", Email(-1, evening=False)),
    "forecast_hi_prev_PM": ("prev_PM", Email(-1, evening=True)),
    "forecast_hi_current_AM": ("current_AM", Email(0, evening=False)),
}
OBSERVED_HIGH = "actual_hi_next_AM"
OBSERVED_IN = Email(1, evening=False)


@dataclass(frozen=True)
class CityMap:
    city: str  # our City.name
    observations: bool  # the table's observations are the settlement station's
    why: str


# Measured against the shared GHCN-Daily files: the table's observed daily highs vs the
# settlement station's TMAX, 2021-01-30..2022-02-01.
CITIES: dict[tuple[str, str], CityMap] = {
    ("NEW_YORK_CITY", "NY"): CityMap("New York", True, "Central Park (KNYC): highs equal on 308/352 days"),
    ("MIAMI_BEACH", "FL"): CityMap("Miami", True, "observations are KMIA's: highs equal on 348/352 days"),
    ("PHILADELPHIA", "PA"): CityMap(
        "Philadelphia", False, "PHL airport: highs equal on 326/352 days, never above (forecasts only)"
    ),
    ("CHICAGO", "IL"): CityMap(
        "Chicago",
        False,
        "O'Hare, not Midway: highs 1.8 °F MAE, 1.4 °F colder; a nearby forecast input whose bias the "
        "per-source accuracy learns (forecasts only)",
    ),
}
# Cities with a Kalshi series whose table entry is not (or not provably) the settlement station.
NOT_MAPPED: dict[tuple[str, str], str] = {
    ("LOS_ANGELES", "CA"): "downtown Los Angeles, not LAX: highs 4.6 °F warmer than KLAX on average",
    ("AUSTIN", "TX"): "Austin's NWS city entry is not shown to be Bergstrom (KAUS) rather than Camp Mabry",
    ("DENVER", "CO"): "no overlapping KDEN observations to verify the station",
    ("HOUSTON_INTCNTL", "NA"): "Houston Intercontinental (IAH), not Hobby (KHOU)",
    ("SAN_FRANCISCO", "CA"): "downtown San Francisco, not SFO",
}


@dataclass(frozen=True)
class ParsedRow:
    forecasts: list[ForecastRow]
    observation: ObservationRow | None
    city_key: tuple[str, str]


def nws_rows(
    path: Path, *, city_ids: dict[tuple[str, str], int], progress: Progress
) -> Iterator[tuple[int, ParsedRow]]:
    """(line, what the row says for a mapped city) for every row; every row is validated.

    ``city_ids`` maps the table's (city, state) to our City id for the cities to import.
    """
    return parsed_rows(path, expected=COLUMNS, parse=lambda cells: _parsed(cells, city_ids), progress=progress)


def _parsed(cells: dict[str, str], city_ids: dict[tuple[str, str], int]) -> ParsedRow:
    target = iso_date(cells["date"], "date")
    values = {column: optional_whole_f(cells[column], column, missing=MISSING) for column in COLUMNS[3:]}
    key = (cells["city"], cells["state"])
    city_id = city_ids.get(key)
    if city_id is None:
        return ParsedRow([], None, key)
    forecasts = [
        _forecast(city_id, target, model, email, high)
        for column, (model, email) in FORECASTS.items()
        if (high := values[column]) is not None
    ]
    high = values[OBSERVED_HIGH]
    observation = None
    if CITIES[key].observations and high is not None:
        observation = ObservationRow(
            city_id,
            target,
            Observation.Source.NWS_CITY,
            {"high_f": high, "is_final": False, "reported_at": OBSERVED_IN.issued(target)},
        )
    return ParsedRow(forecasts, observation, key)


def _forecast(city_id: int, target: date, model: str, email: Email, high: float) -> ForecastRow:
    issued = email.issued(target)
    return ForecastRow(
        source=SOURCE,
        model=model,
        city_id=city_id,
        target_date=target,
        available_at=issued + AVAILABLE_AFTER_ISSUE,
        issued_at=issued,
        high_f=high,
        low_f=None,
    )
