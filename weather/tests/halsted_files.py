"""Small files shaped like Halsted312/weather_updated's extracts in ../shared/data, written by the tests."""

from __future__ import annotations

from collections.abc import Iterable

SETTLEMENT_HEADER = "date,station,tmax_final_f,source_final,tmax_iem_f,tmax_ncei_f\n"


def settlement_file(station: str, days: Iterable[tuple[str, int, str]]) -> str:
    """(date, high, source_final) per day; the other value column agrees, as on most of the real files."""
    lines = []
    for day, high, final in days:
        iem = "" if final == "ncei" else str(high)
        lines.append(f"{day},{station},{high},{final},{iem},{high}\n")
    return SETTLEMENT_HEADER + "".join(lines)
