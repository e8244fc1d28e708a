"""The weather model: a calibrated distribution of the day's high from what was known at the time.

EMOS (non-homogeneous Gaussian regression fitted by minimum CRPS) combines the
features known at the decision time: each source's latest forecast, the
climatological mean and the last observed high, so sources are bias-corrected
and weighted by the regression, refitted as their skill changes.

Forecast errors drift with the season and with the sources' own model
upgrades, but a short window is noisy: each pattern is fitted on the most
recent CANDIDATE_WINDOWS of training days (each widened step by step along
EMOS_WINDOWS only while too few days have the features), and the window with
the lowest out-of-sample CRPS over the recent SELECTION_WINDOW is kept (New
York: the open-meteo forecasts of the last 60 days beat a fit on two years by
0.02 in Brier score in the 2024-25 winter; Chicago's Visual Crossing
forecasts need a year).

A regression fitted on the days it is scored on is sharper than its errors on
new days (by 20-40 % in sigma on the shared data), so the spread is then
calibrated out of sample: sigma is scaled by the factor that minimises CRPS
over the CALIBRATION_WINDOW of weekly refits, each scoring only later days.

Which features exist depends on the day: New York's archive forecasts start in
2023, most series have none, some have only recent settled highs. So a model
is fitted for the pattern of features a prediction actually has, on the
training days that had all of them (dropping the rarest feature while too few
days have all), and the forecast says which inputs it used. An XGBoost
correction of the mean is added only when it lowers CRPS on the latest fifth
of those days, held out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import optimize

from markets.brackets import Bracket
from prediction.book import BOOK_FEATURE_NAMES
from prediction.cases import TrainingPair
from prediction.distributions import Distribution, Normal
from prediction.emos import EmosError, EmosModel, fit_emos, mean_crps
from prediction.features import CLIMATOLOGY, LADDER, PERSISTENCE, CityKnowledge, Features, features_at
from prediction.probabilities import bracket_probabilities
from prediction.xgb import ResidualModel, ResidualModelError

TRAINING_WINDOW = timedelta(days=730)
EMOS_WINDOWS = (timedelta(days=60), timedelta(days=120), timedelta(days=365), TRAINING_WINDOW)
CANDIDATE_WINDOWS = (timedelta(days=60), timedelta(days=365))
MIN_ROWS = 30
SELECTION_WINDOW = timedelta(days=56)
MIN_SELECTION_DAYS = 14
CALIBRATION_WINDOW = timedelta(days=91)
MIN_CALIBRATION_DAYS = 28
SIGMA_SCALES = (0.8, 2.0)  # the bounds of the out-of-sample calibration of the spread
VALIDATION_SHARE = 0.2
MIN_IMPROVEMENT = 0.005  # the correction must lower held-out CRPS by at least 0.5 %


@dataclass(frozen=True)
class WeatherForecast:
    distribution: Distribution
    probabilities: tuple[float, ...]
    inputs: tuple[str, ...]  # the features the model for this forecast used
    corrected: bool  # whether the XGBoost correction was applied


@dataclass(frozen=True)
class FittedPattern:
    """The model for one set of available features, with how it scored."""

    features: tuple[str, ...]
    emos: EmosModel
    correction: ResidualModel | None
    rows: int
    held_out_crps: float | None  # EMOS alone on the held-out days
    held_out_corrected_crps: float | None  # with the correction
    micro: bool = False  # whether the correction reads order-book features
    recent_crps: float | None = None  # out-of-sample over SELECTION_WINDOW, when the pattern was compared
    window_days: int = EMOS_WINDOWS[0].days  # the shortest window of training days the EMOS fit may use
    sigma_scale: float = 1.0  # the out-of-sample calibration of the EMOS spread

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)

    def sigma(self, spread: float | None) -> float:
        return max(self.emos.sigma_floor, self.emos.sigma(spread) * self.sigma_scale)

    def forecast(
        self, features: Features, brackets: Sequence[Bracket], *, running_max: float | None = None
    ) -> WeatherForecast:
        mean = self.emos.mu(features.values_for(self.features))
        if self.correction is not None:
            mean += self.correction.predict([correction_row(features, mean, self.features, micro=self.micro)])[0]
        distribution = Normal(mean, self.sigma(features.spread))
        probabilities = bracket_probabilities(distribution, brackets, running_max=running_max)
        return WeatherForecast(distribution, tuple(probabilities), self.features, self.correction is not None)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "emos": self.emos.to_json_dict(),
            "correction": self.correction.to_json_dict() if self.correction is not None else None,
            "rows": self.rows,
            "held_out_crps": self.held_out_crps,
            "held_out_corrected_crps": self.held_out_corrected_crps,
            "micro": self.micro,
            "recent_crps": self.recent_crps,
            "window_days": self.window_days,
            "sigma_scale": self.sigma_scale,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> FittedPattern:
        correction = data.get("correction")
        return cls(
            features=tuple(str(name) for name in data["features"]),
            emos=EmosModel.from_json_dict(data["emos"]),
            correction=ResidualModel.from_json_dict(correction) if correction is not None else None,
            rows=int(data["rows"]),
            held_out_crps=_optional_float(data.get("held_out_crps")),
            held_out_corrected_crps=_optional_float(data.get("held_out_corrected_crps")),
            micro=bool(data.get("micro", False)),
            recent_crps=_optional_float(data.get("recent_crps")),
            window_days=int(data.get("window_days", EMOS_WINDOWS[0].days)),
            sigma_scale=float(data.get("sigma_scale", 1.0)),
        )


def _optional_float(value: object) -> float | None:
    return None if value is None else float(str(value))


@dataclass
class FitReport:
    rows: int = 0
    patterns: dict[tuple[str, ...], FittedPattern] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    day: date
    features: Features
    observed: float


class WeatherModel:
    """``fit`` on the days known by a time; ``fitted_for`` the features a day has gives the model of its high.

    Forecasts of a case go through prediction.predictor.predict (with
    forecasters.ModelForecaster as the adapter), the path live predictions take.
    """

    def __init__(self, knowledge: CityKnowledge, *, use_correction: bool = True, micro: bool = False) -> None:
        self.knowledge = knowledge
        self.use_correction = use_correction
        self.micro = micro
        self.report = FitReport()
        self._rows: list[_Row] = []
        self._features: dict[tuple[date, datetime], Features] = {}
        self._failed: set[tuple[str, ...]] = set()
        self._as_of: datetime | None = None
        self._chosen: dict[tuple[str, ...], FittedPattern | None] = {}
        # Weekly EMOS fits behind the out-of-sample scores (window choice, spread calibration, the
        # correction's training residuals): they only see earlier rows, so they stay valid across
        # refits and are kept.
        self._weekly: dict[tuple[tuple[str, ...], timedelta, date], EmosModel | None] = {}

    def fit(self, pairs: Sequence[TrainingPair], *, as_of: datetime) -> FitReport:
        """Use the days in ``pairs`` whose high was published by ``as_of``, within the training window."""
        usable = sorted(
            (p for p in pairs if p.known_from <= as_of and as_of - p.decided_at <= TRAINING_WINDOW),
            key=lambda p: p.day,
        )
        self._rows = [_Row(p.day, self._features_of(p), p.observed_high_f) for p in usable]
        self._as_of = as_of
        self.report = FitReport(rows=len(self._rows))
        self._failed = set()
        self._chosen = {}
        return self.report

    def _features_of(self, pair: TrainingPair) -> Features:
        key = (pair.day, pair.decided_at)
        if key not in self._features:
            self._features[key] = features_at(
                day=pair.day,
                when=pair.decided_at,
                forecasts=pair.forecasts,
                knowledge=self.knowledge,
                ladder_centre=pair.ladder_centre_f,
                book=pair.book,
            )
        return self._features[key]

    def fitted_for(self, wanted: tuple[str, ...]) -> FittedPattern | None:
        """The model for a day with the features ``wanted``: the better of all of them or the forecasts alone.

        Climatology and persistence help where forecasts are missing or poor,
        and add noise to a good forecast; which holds is decided by the
        candidates' out-of-sample CRPS over the recent SELECTION_WINDOW.
        """
        if wanted not in self._chosen:
            candidates = dict.fromkeys(
                pattern for pattern in (self._trainable(wanted), self._trainable(forecasts_only(wanted))) if pattern
            )
            fitted = [f for f in (self._pattern(c) for c in candidates) if f is not None]
            self._chosen[wanted] = self._best(fitted)
        return self._chosen[wanted]

    def freeze(self) -> tuple[tuple[FittedPattern, ...], dict[tuple[str, ...], tuple[str, ...]]]:
        """The fitted patterns a stored model needs, and which serves which set of features.

        Covers every feature set of the last SELECTION_WINDOW of training days
        and its fallbacks (no ladder yet, no forecast yet, neither), so a live
        prediction finds its pattern without refitting.
        """
        since = self._as_of.date() - SELECTION_WINDOW if self._as_of is not None else date.min
        seen = {ordered(row.features.values) for row in self._rows if row.day >= since}
        choices: dict[tuple[str, ...], tuple[str, ...]] = {}
        for wanted in sorted(seen):
            for variant in fallbacks(wanted):
                chosen = self.fitted_for(variant)
                if chosen is not None:
                    choices[variant] = chosen.features
        patterns = tuple(self.report.patterns[features] for features in sorted(set(choices.values())))
        return patterns, choices

    def _pattern(self, pattern: tuple[str, ...]) -> FittedPattern | None:
        if pattern in self._failed:
            return None
        if pattern not in self.report.patterns:
            fitted = self._fit_pattern(pattern)
            if fitted is None:
                self._failed.add(pattern)
                return None
            self.report.patterns[pattern] = fitted
        return self.report.patterns[pattern]

    def _best(self, fitted: Sequence[FittedPattern]) -> FittedPattern | None:
        """The candidate with the lowest recent out-of-sample CRPS on the days all of them had (else the first)."""
        if len(fitted) < 2 or self._as_of is None:
            return fitted[0] if fitted else None
        scores = [self._recent_crps(f.features, f.window, f.sigma_scale) for f in fitted]
        means = _common_means(scores)
        if means is None:
            return fitted[0]
        for candidate, mean in zip(fitted, means, strict=True):
            self.report.patterns[candidate.features] = replace(candidate, recent_crps=mean)
        return self.report.patterns[fitted[means.index(min(means))].features]

    def _recent_crps(self, names: tuple[str, ...], window: timedelta, scale: float) -> dict[date, float]:
        """Out-of-sample CRPS per day of the recent SELECTION_WINDOW (each day scored by the fit of its week before)."""
        since = self._since(SELECTION_WINDOW)
        rolled = self._rolling(names, self._complete(names), window, since=since)
        return {r.row.day: Normal(r.mean, r.sigma * scale).crps(r.row.observed) for r in rolled}

    def _since(self, span: timedelta) -> date:
        return self._as_of.date() - span if self._as_of is not None else date.min

    def _trainable(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """The largest part of ``wanted`` that enough training days had, dropping the rarest feature first."""
        pattern = list(wanted)
        counts = {name: sum(name in row.features.values for row in self._rows) for name in pattern}
        while pattern and len(self._complete(pattern)) < MIN_ROWS:
            pattern.remove(min(pattern, key=lambda name: (counts[name], name)))
        return tuple(pattern)

    def _complete(self, names: Sequence[str]) -> list[_Row]:
        return [row for row in self._rows if all(name in row.features.values for name in names)]

    def _fit_pattern(self, names: tuple[str, ...]) -> FittedPattern | None:
        rows = self._complete(names)
        candidates: list[FittedPattern] = []
        seen: set[tuple[date, ...]] = set()
        for window in CANDIDATE_WINDOWS:
            recent = self._recent(rows, window=window)
            days = tuple(row.day for row in recent)
            if days in seen:
                continue  # too few recent days: the window widened to one already fitted
            seen.add(days)
            try:
                emos = _fit_emos(recent, names)
            except EmosError as exc:
                self.report.notes.append(f"{list(names)}, {window.days}-day window: {exc}")
                continue
            fitted = FittedPattern(names, emos, None, len(rows), None, None, micro=self.micro, window_days=window.days)
            candidates.append(replace(fitted, sigma_scale=self._sigma_scale(names, rows, window)))
        if not candidates:
            return None
        chosen = self._best_window(candidates)
        if self.use_correction:
            chosen = self._with_correction(chosen, rows)
        return chosen

    def _best_window(self, candidates: Sequence[FittedPattern]) -> FittedPattern:
        """The window whose weekly refits scored the lowest CRPS on the recent days (else the shortest)."""
        if len(candidates) < 2:
            return candidates[0]
        means = _common_means([self._recent_crps(c.features, c.window, c.sigma_scale) for c in candidates])
        return candidates[0] if means is None else candidates[means.index(min(means))]

    def _sigma_scale(self, names: tuple[str, ...], rows: Sequence[_Row], window: timedelta) -> float:
        """The factor on sigma that minimises out-of-sample CRPS over the CALIBRATION_WINDOW (1 with too few days)."""
        rolled = self._rolling(names, rows, window, since=self._since(CALIBRATION_WINDOW))
        if len(rolled) < MIN_CALIBRATION_DAYS:
            return 1.0
        means = np.array([r.mean for r in rolled])
        sigmas = np.array([r.sigma for r in rolled])
        observed = np.array([r.row.observed for r in rolled])
        result = optimize.minimize_scalar(
            lambda k: mean_crps(means, sigmas * k, observed), bounds=SIGMA_SCALES, method="bounded"
        )
        return round(float(result.x), 3)

    def _recent(self, rows: Sequence[_Row], *, window: timedelta, today: date | None = None) -> list[_Row]:
        """The rows of ``window`` before ``today``, widened along EMOS_WINDOWS until MIN_ROWS (else all before it)."""
        if today is None:
            if self._as_of is None:
                return list(rows)
            today = self._as_of.date()
        before = [row for row in rows if row.day < today]
        for span in (w for w in EMOS_WINDOWS if w >= window):
            recent = [row for row in before if today - row.day <= span]
            if len(recent) >= MIN_ROWS:
                return recent
        return before

    def _with_correction(self, fitted: FittedPattern, rows: list[_Row]) -> FittedPattern:
        """Add an XGBoost correction of the mean if it lowers CRPS on the latest days, held out.

        The correction learns the errors EMOS makes out of sample: each row's
        EMOS mean comes from the model that would have been fitted the week
        before it (``_rolling``), as the weekly refit does in production.
        """
        rolled = self._rolling(fitted.features, rows, fitted.window)
        split = int(len(rolled) * (1 - VALIDATION_SHARE))
        try:
            early_correction = _residual_model(rolled[:split], fitted.features, micro=self.micro)
        except ResidualModelError as exc:
            self.report.notes.append(f"{list(fitted.features)}: no correction ({exc})")
            return fitted
        held_out = rolled[split:]
        shifts = early_correction.predict(
            [correction_row(r.row.features, r.mean, fitted.features, micro=self.micro) for r in held_out]
        )
        means = np.array([r.mean for r in held_out])
        sigmas = np.array([r.sigma for r in held_out]) * fitted.sigma_scale
        observed = np.array([r.row.observed for r in held_out])
        plain = mean_crps(means, sigmas, observed)
        corrected = mean_crps(means + np.asarray(shifts, dtype=float), sigmas, observed)
        correction = None
        if corrected < plain * (1 - MIN_IMPROVEMENT):
            correction = _residual_model(rolled, fitted.features, micro=self.micro)
        return replace(fitted, correction=correction, held_out_crps=plain, held_out_corrected_crps=corrected)

    def _rolling(
        self, names: tuple[str, ...], rows: Sequence[_Row], window: timedelta, *, since: date = date.min
    ) -> list[_Rolled]:
        """Each row from ``since`` with the mean and sigma of the EMOS model fitted on the rows before its week."""
        rolled: list[_Rolled] = []
        for row in rows:
            if row.day < since:
                continue
            week = date.fromordinal(row.day.toordinal() - row.day.toordinal() % 7)
            key = (names, window, week)
            if key not in self._weekly:
                # A day's high is published the next morning: the week's model sees days up to two before it.
                try:
                    recent = self._recent(rows, window=window, today=week - timedelta(days=1))
                    self._weekly[key] = _fit_emos(recent, names)
                except EmosError:
                    self._weekly[key] = None
            model = self._weekly[key]
            if model is not None:
                values = row.features.values_for(names)
                rolled.append(_Rolled(row, model.mu(values), model.sigma(row.features.spread)))
        return rolled


def _common_means(scores: Sequence[dict[date, float]]) -> list[float] | None:
    """Each score's mean over the days all of them scored; None when fewer than MIN_SELECTION_DAYS."""
    common = set.intersection(*(set(score) for score in scores))
    if len(common) < MIN_SELECTION_DAYS:
        return None
    return [sum(score[day] for day in common) / len(common) for score in scores]


@dataclass(frozen=True)
class _Rolled:
    row: _Row
    mean: float
    sigma: float


def ordered(names: Sequence[str] | dict[str, float]) -> tuple[str, ...]:
    """Feature names in one canonical order: forecasts by name, then climatology, then persistence."""
    fallbacks = [name for name in (CLIMATOLOGY, PERSISTENCE) if name in names]
    return tuple(sorted(name for name in names if name not in fallbacks)) + tuple(fallbacks)


def forecasts_only(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if name not in (CLIMATOLOGY, PERSISTENCE))


def fallbacks(wanted: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``wanted`` and what a day may have instead: no ladder, no forecasts, only climatology and persistence."""
    variants = [wanted, tuple(n for n in wanted if n != LADDER)]
    variants.append(tuple(n for n in wanted if n in (LADDER, CLIMATOLOGY, PERSISTENCE)))
    variants.append(tuple(n for n in wanted if n in (CLIMATOLOGY, PERSISTENCE)))
    return [v for v in dict.fromkeys(variants) if v]


def _fit_emos(rows: Sequence[_Row], names: Sequence[str]) -> EmosModel:
    matrix = [[row.features.values[name] for name in names] for row in rows]
    spreads = [row.features.spread for row in rows]
    spread = None if any(s is None for s in spreads) else [float(s or 0.0) for s in spreads]
    return fit_emos(matrix, [row.observed for row in rows], spread, feature_names=list(names))


def _residual_model(rolled: Sequence[_Rolled], names: Sequence[str], *, micro: bool) -> ResidualModel:
    matrix = [correction_row(r.row.features, r.mean, names, micro=micro) for r in rolled]
    residuals = [r.row.observed - r.mean for r in rolled]
    return ResidualModel.fit(matrix, residuals, names=correction_names(names, micro=micro))


def correction_names(features: Sequence[str], *, micro: bool = False) -> list[str]:
    book = list(BOOK_FEATURE_NAMES) if micro else []
    return ["emos_mean", *features, "spread", "season_sin", "season_cos", "lead_days", *book]


def correction_row(row: Features, mean: float, features: Sequence[str], *, micro: bool = False) -> list[float | None]:
    """The XGBoost inputs of one day: the EMOS mean, the features, spread, season, lead (and the book)."""
    lead = float(row.lead_days) if row.lead_days is not None else None
    book = [row.micro.get(name) for name in BOOK_FEATURE_NAMES] if micro else []
    values = [row.values.get(name) for name in features]
    return [mean, *values, row.spread, row.season_sin, row.season_cos, lead, *book]
