"""What a stored forecast value is: the climate day's high, or a single-hour value that only predicts it.

Pure: no Django, so the prediction core can tell them apart too.
"""

from __future__ import annotations

from enum import StrEnum


class ForecastQuantity(StrEnum):
    HIGH = "high"
    T2M_1500_LOCAL = "t2m_1500_local"  # 2-m temperature at 15:00 local clock time (HRRR/NBM guidance)
