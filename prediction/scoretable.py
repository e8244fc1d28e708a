"""A model version's validation scores as a table a person reads: one row per section, four decimals.

``ModelVersion.validation_scores`` is what training stored
(prediction.services.training.validation_scores): ``overall`` and one section
per series and decision slot, each with the model's and the market's Brier
score and log loss and model - market with its 95% interval. The dashboard's
models page and the API's model versions both show it through :func:`score_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OVERALL = "overall"


@dataclass(frozen=True)
class Difference:
    """Model - market for one score, with its 95% interval: negative means the model scores better."""

    value: float | None
    low: float | None
    high: float | None

    @property
    def text(self) -> str:
        return signed(self.value)

    @property
    def interval(self) -> str:
        return "" if self.low is None or self.high is None else f"{signed(self.low)} to {signed(self.high)}"


@dataclass(frozen=True)
class ScoreRow:
    section: str  # "overall", or "KXHIGHNY 10:00 on the day"
    n_events: int | None
    brier_model: float | None
    brier_market: float | None
    brier_difference: Difference
    log_loss_model: float | None
    log_loss_market: float | None
    log_loss_difference: Difference

    def readable(self) -> dict[str, Any]:
        """The row as the API shows it: scores as strings with four decimals, differences signed."""
        return {
            "section": self.section,
            "events": self.n_events,
            "brier_model": plain(self.brier_model),
            "brier_market": plain(self.brier_market),
            "brier_model_minus_market": self.brier_difference.text,
            "brier_model_minus_market_95ci": self.brier_difference.interval,
            "log_loss_model": plain(self.log_loss_model),
            "log_loss_market": plain(self.log_loss_market),
            "log_loss_model_minus_market": self.log_loss_difference.text,
            "log_loss_model_minus_market_95ci": self.log_loss_difference.interval,
        }


def plain(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def _number(section: Mapping[str, Any], key: str) -> float | None:
    value = section.get(key)
    return float(value) if isinstance(value, int | float) else None


def _difference(section: Mapping[str, Any], score: str) -> Difference:
    interval = section.get(f"{score}_model_minus_market_ci")
    low, high = interval if isinstance(interval, list | tuple) and len(interval) == 2 else (None, None)
    return Difference(_number(section, f"{score}_model_minus_market"), low, high)


def score_rows(scores: Mapping[str, Any]) -> list[ScoreRow]:
    """The overall section first, then each series and slot in order; sections that are not tables are left out."""
    names = sorted(
        (name for name, section in scores.items() if isinstance(section, Mapping)), key=lambda n: (n != OVERALL, n)
    )
    rows = []
    for name in names:
        section = scores[name]
        events = section.get("n_events")
        rows.append(
            ScoreRow(
                section=name,
                n_events=events if isinstance(events, int) else None,
                brier_model=_number(section, "brier_model"),
                brier_market=_number(section, "brier_market"),
                brier_difference=_difference(section, "brier"),
                log_loss_model=_number(section, "log_loss_model"),
                log_loss_market=_number(section, "log_loss_market"),
                log_loss_difference=_difference(section, "log_loss"),
            )
        )
    return rows


def overall(scores: Mapping[str, Any]) -> ScoreRow | None:
    rows = score_rows({OVERALL: scores[OVERALL]}) if isinstance(scores.get(OVERALL), Mapping) else []
    return rows[0] if rows else None
