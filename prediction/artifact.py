"""The trained bracket model as a stored artifact: what a ModelVersion holds and live predictions use.

Per series and per decision slot (18:00 the evening before, 10:00 and 14:00
on the day), the fitted weather-model patterns (EMOS parameters and any
XGBoost correction), which pattern serves which set of available features,
and the weights combining the weather model with the market's price. JSON,
so an operator can read
what a model is; the XGBoost boosters ride inside as base64 of their own JSON.
Forecasts come from prediction.predictor.predict(case, slot, knowledge).

Pure: no Django.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from prediction.cases import DecisionTime
from prediction.combination import Combination
from prediction.weather_model import FittedPattern, ordered

ARTIFACT_KIND = "kalshiweb-bracket-model"
ARTIFACT_VERSION = 2  # 2: a learned logarithmic combination with the market (1: a linear pool)


class ArtifactError(ValueError):
    """A stored model that cannot be read, or that has nothing for what is asked."""


@dataclass(frozen=True)
class SlotModel:
    """The model of one series at one decision slot: a Predictor for prediction.predictor.predict."""

    decision: DecisionTime
    patterns: tuple[FittedPattern, ...]
    choices: Mapping[tuple[str, ...], tuple[str, ...]]  # available features → the pattern that serves them
    combination: Combination  # how the weather model and the market's price are combined

    def pattern_for(self, available: Sequence[str]) -> FittedPattern | None:
        """The chosen pattern for exactly these features; else the largest stored one they cover."""
        wanted = ordered(available)
        by_features = {p.features: p for p in self.patterns}
        chosen = self.choices.get(wanted)
        if chosen is not None and chosen in by_features:
            return by_features[chosen]
        covered = [p for p in self.patterns if set(p.features) <= set(wanted)]
        if not covered:
            return None
        return max(covered, key=lambda p: (len(p.features), -(p.recent_crps or p.emos.train_crps)))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "decision": {"clock": self.decision.clock.strftime("%H:%M"), "day_before": self.decision.day_before},
            "patterns": [p.to_json_dict() for p in self.patterns],
            "choices": [{"available": list(k), "pattern": list(v)} for k, v in sorted(self.choices.items())],
            "combination": self.combination.to_json_dict(),
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> SlotModel:
        decision = data["decision"]
        return cls(
            decision=DecisionTime(time.fromisoformat(decision["clock"]), day_before=bool(decision["day_before"])),
            patterns=tuple(FittedPattern.from_json_dict(p) for p in data["patterns"]),
            choices={tuple(c["available"]): tuple(c["pattern"]) for c in data["choices"]},
            combination=Combination.from_json_dict(data["combination"]),
        )


@dataclass(frozen=True)
class SeriesModel:
    series: str
    slots: tuple[SlotModel, ...]  # in decision order: the evening before first

    def slot_for(self, target: date, when: datetime, zone: str) -> SlotModel:
        """The latest slot whose decision time has come by ``when``; before the first, the first."""
        passed = [slot for slot in self.slots if slot.decision.at(target, zone) <= when]
        if passed:
            return max(passed, key=lambda slot: slot.decision.at(target, zone))
        return min(self.slots, key=lambda slot: slot.decision.at(target, zone))

    def to_json_dict(self) -> dict[str, Any]:
        return {"series": self.series, "slots": [slot.to_json_dict() for slot in self.slots]}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> SeriesModel:
        return cls(str(data["series"]), tuple(SlotModel.from_json_dict(s) for s in data["slots"]))


@dataclass(frozen=True)
class BracketModel:
    series: Mapping[str, SeriesModel]
    micro: bool  # whether corrections read order-book features

    def for_series(self, ticker: str) -> SeriesModel:
        try:
            return self.series[ticker]
        except KeyError:
            raise ArtifactError(f"the model has nothing for series {ticker}") from None

    def to_json(self) -> str:
        body = {
            "kind": ARTIFACT_KIND,
            "version": ARTIFACT_VERSION,
            "micro": self.micro,
            "series": [model.to_json_dict() for _, model in sorted(self.series.items())],
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> BracketModel:
        try:
            data = json.loads(text)
            if data.get("kind") != ARTIFACT_KIND or data.get("version") != ARTIFACT_VERSION:
                raise ArtifactError(f"not a {ARTIFACT_KIND} v{ARTIFACT_VERSION} artifact")
            models = [SeriesModel.from_json_dict(s) for s in data["series"]]
        except ArtifactError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArtifactError(f"unreadable model artifact: {exc!r}") from exc
        return cls({m.series: m for m in models}, bool(data.get("micro", False)))
