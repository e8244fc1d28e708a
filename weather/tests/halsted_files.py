"""Small files shaped like Halsted312/weather_updated's extracts in ../shared/data, written by the tests.

Local standard time is computed here with plain offset arithmetic, not with
weather.climate, so that the importer's own climate-day checks are tested
against an independent answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

VC_HEADER = (
    "target_datetime_utc,target_date_lst,hour_lst,forecast_basis_date,available_at_utc,temp_f,dew_f,humidity,"
    "precip_in,precipprob,windspeed_mph,cloudcover,conditions\n"
)
GUIDANCE_HEADER = "target_date,model,run_datetime_utc,valid_datetime_utc,t2m_1500_local_f\n"
SETTLEMENT_HEADER = "date,station,tmax_final_f,source_final,tmax_iem_f,tmax_ncei_f\n"
CHICAGO_HOURS = -6  # CST, Chicago's standard-time offset


def zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vc_available(basis: date) -> datetime:
    """The README's rule: 00:00 UTC of the day after the basis date."""
    return datetime.combine(basis + timedelta(days=1), datetime.min.time(), UTC)


def vc_line(at: datetime, basis: date, temp: float, *, offset_hours: int = CHICAGO_HOURS) -> str:
    standard = at + timedelta(hours=offset_hours)
    return (
        f"{zulu(at)},{standard.date()},{standard.hour},{basis},{zulu(vc_available(basis))},{temp},40.0,80.0,"
        "0.0,0.0,5.0,50.0,Overcast\n"
    )


def vc_file(forecasts: dict[date, tuple[datetime, list[float]]], *, offset_hours: int = CHICAGO_HOURS) -> str:
    """An hourly file: for each basis date, consecutive hours from a first UTC hour; sorted as the README says."""
    rows = sorted(
        (start + timedelta(hours=i), basis, temp)
        for basis, (start, temps) in forecasts.items()
        for i, temp in enumerate(temps)
    )
    return VC_HEADER + "".join(vc_line(at, basis, temp, offset_hours=offset_hours) for at, basis, temp in rows)


def guidance_line(target: date, model: str, value: float, *, valid_hour_utc: int = 21) -> str:
    """A 12 UTC run of the day before, valid at ``valid_hour_utc`` on the target day (21Z = 15:00 CST)."""
    run = datetime.combine(target - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=12)
    valid = datetime.combine(target, datetime.min.time(), UTC) + timedelta(hours=valid_hour_utc)
    return f"{target},{model},{zulu(run)},{zulu(valid)},{value}\n"


def settlement_file(station: str, days: Iterable[tuple[str, int, str]]) -> str:
    """(date, high, source_final) per day; the other value column agrees, as on most of the real files."""
    lines = []
    for day, high, final in days:
        iem = "" if final == "ncei" else str(high)
        lines.append(f"{day},{station},{high},{final},{iem},{high}\n")
    return SETTLEMENT_HEADER + "".join(lines)
