"""First-run set-up as the database tells it (a Kalshi key, the cities, a DRY cycle), and the test of a key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from kalshiweb.masking import mask_tail
from kalshiweb.modes import KalshiEnvironment, TradingMode
from kalshiweb.templatetags.money import dollars
from markets.client import KalshiClient
from markets.credentials import CredentialError, load_private_key
from markets.errors import AuthError, KalshiError
from markets.models import ApiCredential
from markets.signing import RequestSigner
from markets.transport import ClientConfig, RetryPolicy
from trading.models import TradingCycle
from weather.models import City


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    done: bool
    detail: str


def setup_steps(*, mode: str) -> list[Step]:
    """The three onboarding steps, each done or not from what is stored (three queries)."""
    return [_keys_step(), _cities_step(), _cycle_step(mode)]


def _keys_step() -> Step:
    title = "Connect your Kalshi API keys (DEMO first)"
    keys = list(ApiCredential.objects.filter(is_active=True).order_by("environment"))
    described = [
        f"{key.get_environment_display()} key {key.masked_key_id}"
        + (f" (last worked {key.last_used_at:%Y-%m-%d %H:%M} UTC)" if key.last_used_at else " (not tested yet)")
        for key in keys
    ]
    if settings.KALSHI_API_KEY_ID:  # the environment's key wins over stored ones for its exchange
        described.append(f"{settings.KALSHI_ENV} key {mask_tail(settings.KALSHI_API_KEY_ID)} from the environment")
    if not described:
        return Step(1, title, False, "No active API key is stored yet.")
    return Step(1, title, True, f"{'; '.join(described)}.")


def _cities_step() -> Step:
    names = list(City.objects.active().order_by("name").values_list("name", flat=True))
    if not names:
        return Step(2, "Choose the cities to trade", False, "No city is active.")
    return Step(2, "Choose the cities to trade", True, f"{len(names)} active: {', '.join(names)}.")


def _cycle_step(mode: str) -> Step:
    last = TradingCycle.objects.filter(mode="DRY").order_by("-as_of").first()
    title = "See the first DRY results"
    if last is None:
        note = "" if mode == "DRY" else f" (this installation trades {mode}: set TRADING_MODE=DRY to run one)"
        return Step(3, title, False, f"No DRY trading cycle has run yet{note}.")
    return Step(
        3, title, True, f"Last DRY cycle at {last.as_of:%Y-%m-%d %H:%M} UTC: {last.get_outcome_display().lower()}."
    )


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    text: str  # plain words for the operator


def check_connection(credential: ApiCredential, *, now: datetime) -> ConnectionCheck:
    """One authenticated read (GET /portfolio/balance) with ``credential`` against its own exchange.

    The client is built in DRY mode whatever the installation trades: a test
    must never be able to send an order. No retries, so a dead exchange
    answers in seconds. A success marks the key used.
    """
    environment = KalshiEnvironment(credential.environment)
    exchange = "demo" if environment is KalshiEnvironment.DEMO else "production"
    try:
        key = load_private_key(credential.private_key, source=f"API credential {credential.name!r}")
    except CredentialError as exc:
        return ConnectionCheck(False, f"The stored key cannot be used: {exc}")
    config = ClientConfig(
        base_url=settings.KALSHI_DEMO_BASE if environment is KalshiEnvironment.DEMO else settings.KALSHI_API_BASE,
        environment=environment,
        mode=TradingMode.DRY,
        signer=RequestSigner(credential.key_id, key),
        retry=RetryPolicy(attempts=1),
    )
    try:
        with KalshiClient(config) as client:
            balance = client.get_balance()
    except AuthError as exc:
        return ConnectionCheck(
            False,
            f"Kalshi's {exchange} exchange refused key {credential.masked_key_id} ({exc.message or exc.code or exc}). "
            f"Check that the key id and private key belong together and were made on the {exchange} exchange.",
        )
    except KalshiError as exc:
        return ConnectionCheck(False, f"Could not get an answer from Kalshi's {exchange} exchange: {exc}")
    credential.mark_used(now=now)
    return ConnectionCheck(
        True,
        f"Connected to Kalshi's {exchange} exchange with key {credential.masked_key_id}: "
        f"balance {dollars(balance.balance)}, portfolio {dollars(balance.portfolio_value)}.",
    )
