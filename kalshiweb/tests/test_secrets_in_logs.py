"""No key material in the logs of a whole DEMO order cycle, nor in the pages that show the credential.

A real RSA key is stored encrypted through the onboarding form, tested, and used by the production
path (settings → stored credential → signer) to reconcile, trade and settle against the local
exchange on loopback. Every logger runs at DEBUG (httpx and httpcore included) into production's
own handler, and a second handler sees each record before that handler redacts it. Neither may
hold the PEM, any 40 characters of its body, the private numbers (hex or decimal), the field's
ciphertext or a signature sent; the last test shows the same scan catches a key that is logged.
"""

from __future__ import annotations

import io
import logging
import logging.config
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.test import override_settings

from kalshiweb.logconfig import LogFormat, LogLevel, logging_config
from kalshiweb.modes import KalshiEnvironment, TradingMode
from markets import signing
from markets.connection import kalshi_client
from markets.models import ApiCredential
from trading.accounting import account_for
from trading.cycle import run_trading_cycle
from trading.models import Order
from trading.reconcile import reconcile
from trading.services import resume_trading
from trading.tests.exchange import served
from trading.tests.test_end_to_end import BANKROLL, store_books, venue
from trading.tests.world import NOW, build_world

pytestmark = pytest.mark.django_db

WINDOW = 40  # characters: any run this long of a secret counts as leaked
KEY_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def number_spellings(number: int) -> list[str]:
    """A private number as logs could show it: decimal, hex either case, and OpenSSL's colon-separated bytes."""
    hexadecimal = f"{number:x}"
    octets = ":".join(f"{byte:02x}" for byte in number.to_bytes((number.bit_length() + 7) // 8, "big"))
    return [str(number), hexadecimal, hexadecimal.upper(), octets, octets.upper()]


def key_material(key: rsa.RSAPrivateKey) -> list[str]:
    """The PEM, its body (by line and joined) and every private number (the modulus and exponent are public)."""
    pem = pem_of(key)
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    numbers = key.private_numbers()
    private = (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)
    return [pem, "".join(body), *body, *(spelling for n in private for spelling in number_spellings(n))]


@dataclass
class Scanner:
    """Finds any WINDOW-character run of any secret in a text."""

    secrets: list[str]
    _runs: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self._runs = {s[i : i + WINDOW] for s in self.secrets for i in range(max(1, len(s) - WINDOW + 1))}

    def leaks(self, text: str) -> list[str]:
        """Each leaked run found, with the text around it."""
        return [
            text[max(0, i - 20) : i + WINDOW + 20]
            for i in range(len(text) - WINDOW + 1)
            if text[i : i + WINDOW] in self._runs
        ]


class RawRecords(logging.Handler):
    """Every record's text before production's handler redacts it: nothing should even try to log a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = [str(value) for name, value in vars(record).items() if name not in vars(_BLANK)]
        self.texts.append(" ".join([record.getMessage(), *extras, self.format(record) if record.exc_info else ""]))


_BLANK = logging.LogRecord("", 0, "", 0, "", None, None)


@dataclass
class Captured:
    emitted: io.StringIO  # what production's handler (JSON, redacting) writes
    raw: RawRecords
    caplog: pytest.LogCaptureFixture

    def texts(self) -> dict[str, str]:
        return {
            "emitted": self.emitted.getvalue(),
            "raw": "\n".join(self.raw.texts),
            "caplog": self.caplog.text,
        }

    def leaks(self, scanner: Scanner) -> dict[str, list[str]]:
        return {where: found for where, text in self.texts().items() if (found := scanner.leaks(text))}


@contextmanager
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Production's logging config at DEBUG, no logger quietened, its handler writing to a buffer."""
    emitted = io.StringIO()
    config = logging_config(level=LogLevel.DEBUG, fmt=LogFormat.JSON)
    config["handlers"]["console"]["stream"] = emitted
    config["loggers"] = {}  # httpx, httpcore, django.request, uvicorn.access... all at DEBUG too
    loggers = [lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    levels = {lg: lg.level for lg in loggers}
    raw = RawRecords()
    logging.config.dictConfig(config)
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
    logging.root.handlers.insert(0, raw)  # first: it sees each record before the redacting handler
    caplog.set_level(logging.DEBUG)
    logging.root.addHandler(caplog.handler)  # dictConfig replaced the root's handlers
    try:
        yield Captured(emitted, raw, caplog)
    finally:
        logging.config.dictConfig(settings.LOGGING)
        for logger, level in levels.items():
            logger.setLevel(level)


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    with every_logger_at_debug(caplog) as logs:
        yield logs


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every KALSHI-ACCESS-SIGNATURE value the client computes (and so sends)."""
    sent: list[str] = []
    original: Callable[..., str] = signing.sign

    def recording_sign(private_key: Any, message: bytes) -> str:
        signature = original(private_key, message)
        sent.append(signature)
        return signature

    monkeypatch.setattr(signing, "sign", recording_sign)
    return sent


def stored_ciphertext(credential_pk: int) -> str:
    """The private key column as the database holds it (the field decrypts on every ordinary read)."""
    raw = Cast("private_key", output_field=models.TextField())
    return str(ApiCredential.objects.filter(pk=credential_pk).annotate(raw=raw).values_list("raw", flat=True).get())


def get_ok(client: Any, urls: Iterable[str]) -> list[str]:
    pages = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return pages


def test_a_demo_order_cycle_and_the_credential_pages_log_no_key_material(admin_client, key, captured, signatures):
    world = build_world()
    exchange = venue(world)
    exchange.deposit(KEY_ID, BANKROLL)
    resume_trading(reason="test", actor="test", now=NOW - timedelta(hours=2))
    with served(exchange, key) as running:
        running.feed.keys[KEY_ID] = key.public_key()  # the exchange knows our key id as a member
        demo = {"KALSHI_DEMO_BASE": running.urls.rest_url, "KALSHI_BASE_URL": running.urls.rest_url}
        with override_settings(TRADING_MODE=TradingMode.DEMO, KALSHI_ENV=KalshiEnvironment.DEMO, **demo):
            added = admin_client.post(
                "/dashboard/onboarding/",
                {"action": "add_key", "name": "demo key", "environment": "DEMO", "is_active": "on",
                 "new_key_id": KEY_ID, "private_key_pem": pem_of(key)},
            )  # fmt: skip
            assert added.status_code == 302
            credential = ApiCredential.objects.get(key_id=KEY_ID)
            tested = admin_client.post(
                "/dashboard/onboarding/", {"action": "test_key", "credential": credential.pk}, follow=True
            )
            assert "Connected to Kalshi&#x27;s demo exchange" in tested.content.decode()
            with kalshi_client() as client:  # signs with the stored credential
                assert reconcile(client, mode="DEMO", now=NOW - timedelta(minutes=1)).complete
                store_books(client, world, NOW)
                cycle = run_trading_cycle(now=NOW)
                for market, result in ((world.low, "no"), (world.mid, "yes"), (world.high, "no")):
                    exchange.settle(market.ticker, result)
                assert reconcile(client, mode="DEMO", now=NOW + timedelta(days=1)).complete
            pages = get_ok(
                admin_client,
                [
                    "/admin/markets/apicredential/",
                    f"/admin/markets/apicredential/{credential.pk}/change/",
                    "/dashboard/onboarding/",
                    "/",
                    "/health/",
                ],
            )
    # The cycle really traded: an order filled at the exchange, and our ledger agrees after settlement.
    assert cycle.outcome == "done" and cycle.placed == 1, cycle.detail
    assert Order.objects.get(mode="DEMO").status == Order.Status.EXECUTED
    assert account_for("DEMO").cash == exchange.member(KEY_ID).balance
    assert len(signatures) >= 5
    assert '"logger": "kalshiweb.access"' in captured.emitted.getvalue()  # the pages' access log is in there
    assert '"logger": "httpx"' in captured.emitted.getvalue()

    scanner = Scanner([*key_material(key), stored_ciphertext(credential.pk), *signatures])
    assert captured.leaks(scanner) == {}
    assert [page for page in pages if scanner.leaks(page)] == []


def test_the_scan_catches_key_material_that_is_logged(key, captured, caplog):
    """The same capture and scan, with a key logged the ways the redacting patterns cannot recognise."""
    numbers = key.private_numbers()
    body_line = pem_of(key).splitlines()[5]
    logger = logging.getLogger("kalshiweb.careless")
    logger.debug("prime %x", numbers.p)
    logger.info("a line of the key: %s", body_line[7:55])
    assert captured.raw.texts and captured.emitted.getvalue()
    leaks = captured.leaks(Scanner(key_material(key)))
    assert set(leaks) == {"emitted", "raw", "caplog"}
    assert any(f"{numbers.p:x}"[:WINDOW] in found for found in leaks["emitted"])
    assert any(body_line[7 : 7 + WINDOW] in found for found in leaks["emitted"])
