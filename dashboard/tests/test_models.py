"""The models page: readable validation tables, the live record against the market, the plain warning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from markets.models import Market
from markets.tests.factories import EventFactory, MarketFactory, TradeFactory
from prediction.models import BracketProbability, ModelVersion, Prediction

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    """The live record is cached per window for a few minutes: each test starts without it."""
    cache.clear()


TODAY = timezone.now().date()


def scores(model: float, market: float, *, events: int = 120) -> dict[str, object]:
    section = {"n_events": events, "brier_model": model, "brier_market": market, "log_loss_model": 0.61234,
               "log_loss_market": 0.59871, "brier_model_minus_market": model - market,
               "brier_model_minus_market_ci": [model - market - 0.01, model - market + 0.01],
               "log_loss_model_minus_market": 0.01363, "log_loss_model_minus_market_ci": [-0.002, 0.029]}  # fmt: skip
    return {"overall": section, "KXHIGHNY 10:00 on the day": {**section, "n_events": events // 2}}


def version(n: int, status: str, model: float, market: float) -> ModelVersion:
    return ModelVersion.objects.create(
        name="bracket-model", version=n, kind=ModelVersion.Kind.BLEND, status=status,
        trained_at=datetime(2025, 2, n, tzinfo=UTC), validation_scores=scores(model, market), artifact=b"x",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "market", "warned"),
    [(0.2134, 0.1987, True), (0.1987, 0.2134, False), (0.2, 0.2, False)],
)
def test_the_warning_shows_exactly_when_the_promoted_model_is_worse_than_the_market(
    staff_client, model, market, warned
):
    version(1, ModelVersion.Status.PROMOTED, model, market)
    version(2, ModelVersion.Status.CANDIDATE, 0.3, 0.1)  # a worse candidate is no reason to warn
    html = staff_client.get(reverse("dashboard-models")).content.decode()
    warning = (
        f"The promoted model is worse than the market: Brier {model:.4f} vs {market:.4f} over 120 events. "
        "Trading on it loses to the price."
    )
    assert (warning in html) is warned and ('id="model-warning"' in html) is warned


def test_no_warning_without_a_promoted_model(staff_client):
    version(1, ModelVersion.Status.RETIRED, 0.3, 0.1)
    assert 'id="model-warning"' not in staff_client.get(reverse("dashboard-models")).content.decode()


def test_validation_scores_read_as_a_table_with_four_decimals(staff_client):
    version(1, ModelVersion.Status.PROMOTED, 0.18234567, 0.19871)
    html = staff_client.get(reverse("dashboard-models")).content.decode()
    table = html.split('class="scores"')[1].split("</table>")[0]
    overall, series = table.split("<td>overall</td>")[1], table.split("<td>KXHIGHNY 10:00 on the day</td>")[1]
    assert "<td>120</td>" in overall and "<td>0.1823</td>" in overall and "<td>0.1987</td>" in overall
    assert "<td>-0.0164</td>" in overall and "-0.0264 to -0.0064" in overall and "<td>0.6123</td>" in overall
    assert "<td>60</td>" in series
    assert '"brier_model"' not in html  # no raw JSON


def settled_event(day: date, *, model: tuple[str, str], prices: tuple[str, str], winner: int) -> None:
    """One event of two brackets, predicted the evening before, priced by prints before that, settled."""
    event = EventFactory.create(target_date=day)
    markets = [
        MarketFactory.create(event=event, floor_strike=Decimal(40 + 2 * i), result=Market.Result.YES if i == winner
                             else Market.Result.NO)
        for i in range(2)
    ]  # fmt: skip
    as_of = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=22)
    promoted = ModelVersion.objects.get(status=ModelVersion.Status.PROMOTED)
    prediction = Prediction.objects.create(model_version=promoted, event=event, as_of=as_of)
    later = Prediction.objects.create(model_version=promoted, event=event, as_of=as_of + timedelta(hours=12))
    for market, probability, price in zip(markets, model, prices, strict=True):
        BracketProbability.objects.create(prediction=prediction, market=market, probability=Decimal(probability))
        BracketProbability.objects.create(prediction=later, market=market, probability=Decimal("0.5"))
        TradeFactory.create(market=market, yes_price=Decimal(price), created_time=as_of - timedelta(hours=1))
        TradeFactory.create(market=market, yes_price=Decimal("0.99"), created_time=as_of + timedelta(hours=1))


def test_the_running_brier_advantage_scores_stored_predictions_against_the_price(staff_client):
    version(1, ModelVersion.Status.PROMOTED, 0.18, 0.19)
    # Model 0.8/0.2 and market 0.6/0.4 on a YES for the first: Brier 0.04 against 0.16.
    settled_event(TODAY - timedelta(days=3), model=("0.8", "0.2"), prices=("0.6", "0.4"), winner=0)
    # Then the model is wrong: 0.9/0.1 against 0.5/0.5 with the second winning: 0.81 against 0.25.
    settled_event(TODAY - timedelta(days=2), model=("0.9", "0.1"), prices=("0.5", "0.5"), winner=1)
    html = staff_client.get(reverse("dashboard-models")).content.decode()
    # Over both: model (0.04 * 2 + 0.81 * 2) / 4 = 0.425; market (0.16 * 2 + 0.25 * 2) / 4 = 0.205.
    assert "on 2 settled events: Brier model 0.4250" in html and "vs market 0.2050" in html
    assert '<strong id="brier-advantage">-0.2200</strong>' in html and "the price beats the model" in html
    chart = html.split('id="model-chart" type="application/json">')[1].split("</script>")[0]
    assert '"advantage": [0.12, -0.22]' in chart


@pytest.mark.parametrize("size", [2, 8])
def test_the_page_takes_fixed_queries(staff_client, django_assert_num_queries, size):
    version(1, ModelVersion.Status.PROMOTED, 0.18, 0.19)
    for n in range(2, size):
        version(n, ModelVersion.Status.RETIRED, 0.2, 0.19)
    for n in range(size):
        settled_event(TODAY - timedelta(days=n + 1), model=("0.7", "0.3"), prices=("0.6", "0.4"), winner=n % 2)
    # session, user, versions, chosen predictions, their brackets with prices, the banner's trading state
    with django_assert_num_queries(6):
        assert staff_client.get(reverse("dashboard-models")).status_code == 200
