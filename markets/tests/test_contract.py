"""Our client against Kalshi's own OpenAPI document (../shared/kalshi/openapi-3.31.0.yaml, read in place).

Every endpoint function is called with an argument for every parameter, and
what it would send is checked against the spec: the path and method exist,
each query parameter is one the operation declares, authenticated operations
are signed, and request bodies validate against the request schemas. Then
responses synthesised from each response schema (the spec's own examples
where it has them, a value per type elsewhere) go through our parsers: with
only the required fields, with every field, and with every nullable field null.
"""

from __future__ import annotations

import copy
import inspect
import string
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
import yaml

from markets import endpoints
from markets.calls import Command, Paged, Query
from markets.schemas import (
    AcceptedDetailsUnknown,
    BookSide,
    CreateOrderRequest,
    SelfTradePrevention,
    TimeInForce,
    decrease_body,
    parse_orderbook,
    parse_settlement,
)
from markets.tests.kalshi_payloads import TICKER, amend_request, call_with_samples, order_request
from trading.decisions import OrderIntent

pytestmark = pytest.mark.kalshi_spec

SPEC_URI = "urn:kalshi:openapi"
SPEC_FILE = "openapi-3.31.0.yaml"  # the current spec, with the V2 order endpoints
Call = Query[Any] | Command[Any]


@pytest.fixture(scope="module")
def spec(kalshi_spec_dir):
    return yaml.safe_load((kalshi_spec_dir / SPEC_FILE).read_text(encoding="utf-8"))


def every_call() -> list[tuple[str, Call]]:
    """(endpoint function name, request) for every endpoint function, with every parameter set."""
    calls: list[tuple[str, Call]] = []
    for name in endpoints.__all__:
        built = call_with_samples(getattr(endpoints, name))
        for item in built if isinstance(built, list) else [built]:
            calls.append((name, item.page(limit=10, cursor="next") if isinstance(item, Paged) else item))
    return calls


CALLS = every_call()
IDS = [f"{name}:{call.method}" for name, call in CALLS]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(spec, call: Call) -> dict[str, Any]:
    path_item = spec["paths"].get(call.template)
    assert path_item is not None, f"{call.template} is not a path in Kalshi's spec"
    op = path_item.get(call.method.lower())
    assert op is not None, f"{call.method} {call.template} is not an operation in Kalshi's spec"
    return op


def parameters(spec, call: Call, location: str) -> set[str]:
    declared = [*spec["paths"][call.template].get("parameters", []), *operation(spec, call).get("parameters", [])]
    return {p["name"] for p in (resolve(spec, p) for p in declared) if p["in"] == location}


@pytest.mark.parametrize(("name", "call"), CALLS, ids=IDS)
def test_every_path_and_method_we_call_exists_in_the_spec(spec, name, call):
    operation(spec, call)


@pytest.mark.parametrize(("name", "call"), CALLS, ids=IDS)
def test_our_parameter_names_exist_in_the_spec(spec, name, call):
    placeholders = {field for _, field, _, _ in string.Formatter().parse(call.template) if field}
    assert placeholders == set(call.path_params) <= parameters(spec, call, "path")
    unknown = set(call.params) - parameters(spec, call, "query")
    assert not unknown, f"{name}: query parameters {sorted(unknown)} are not in the spec for {call.template}"


@pytest.mark.parametrize(("name", "call"), CALLS, ids=IDS)
def test_operations_the_spec_secures_are_signed(spec, name, call):
    if operation(spec, call).get("security"):
        assert call.auth, f"{name}: the spec requires authentication for {call.method} {call.template}"


def test_every_endpoint_function_is_covered():
    assert {name for name, _ in CALLS} == set(endpoints.__all__)
    assert all(inspect.isfunction(getattr(endpoints, name)) for name in endpoints.__all__)


# --- request bodies ----------------------------------------------------------------------------


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable: true`` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: ({k: as_json_schema(v) for k, v in value.items()} if key == "properties" else as_json_schema(value))
        for key, value in node.items()
        if key not in ("nullable", "example")
    }
    if node.get("nullable") is True:
        if "type" in converted and "$ref" not in converted and "allOf" not in converted:
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="module")
def request_validator(spec):
    document = as_json_schema(copy.deepcopy(spec))
    resource = referencing.jsonschema.DRAFT4.create_resource(document)
    registry = referencing.Registry().with_resource(SPEC_URI, resource)

    def validator(schema_ref: str) -> jsonschema.Draft4Validator:
        return jsonschema.Draft4Validator({"$ref": SPEC_URI + schema_ref}, registry=registry)

    return validator


def request_schema_ref(spec, call: Command[Any]) -> str:
    body = operation(spec, call).get("requestBody")
    assert body is not None, f"{call.method} {call.template} takes no body in the spec"
    return body["content"]["application/json"]["schema"]["$ref"]


BODIES = [(name, call) for name, call in CALLS if isinstance(call, Command) and call.body is not None]


@pytest.mark.parametrize(("name", "call"), BODIES, ids=[name for name, _ in BODIES])
def test_our_request_bodies_validate_against_the_spec(spec, request_validator, name, call):
    request_validator(request_schema_ref(spec, call)).validate(call.body)


ORDER_SHAPES = [
    order_request(side=BookSide.ASK, price=Decimal("0.055"), count=Decimal("2.5")),
    order_request(
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        self_trade_prevention=SelfTradePrevention.MAKER,
        post_only=True,
        reduce_only=True,
        order_group_id="grp-1",
        cancel_order_on_pause=True,
    ),
    order_request(time_in_force=TimeInForce.FILL_OR_KILL),
    order_request(expiration=datetime(2026, 3, 2, 15, tzinfo=UTC)),
]


@pytest.mark.parametrize("request_", ORDER_SHAPES)
def test_every_order_shape_validates(spec, request_validator, request_: CreateOrderRequest):
    request_validator("#/components/schemas/CreateOrderV2Request").validate(request_.to_json())


@pytest.mark.parametrize("taker", [True, False])
def test_the_trading_cores_intents_become_valid_v2_orders(request_validator, taker):
    """trading.decisions.OrderIntent already speaks V2: its request must validate unchanged."""
    intent = OrderIntent(
        ticker=TICKER,
        event_ticker="KXHIGHNY-26MAR02",
        side=BookSide.ASK,  # buying NO at 0.07 is an ask at 0.93
        price=Decimal("0.93"),
        count=Decimal(3),
        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL if taker else TimeInForce.GOOD_TILL_CANCELED,
        post_only=not taker,
        client_order_id="kw-intent",
        strategy="test",
        reason="test",
        reduce_only=taker,
    )
    body = intent.order_request().to_json()
    request_validator("#/components/schemas/CreateOrderV2Request").validate(body)
    assert (body["side"], body["price"], body["count"]) == ("ask", "0.9300", "3.00")
    assert body.get("post_only", False) is not taker


def test_every_amendment_and_decrease_shape_validates(spec, request_validator):
    for amendment in (amend_request(), amend_request(client_order_id=None, updated_client_order_id=None)):
        request_validator("#/components/schemas/AmendOrderV2Request").validate(amendment.to_json())
    for body in (decrease_body(reduce_by=Decimal(2)), decrease_body(reduce_to=Decimal(0))):
        request_validator("#/components/schemas/DecreaseOrderV2Request").validate(body)


def test_the_validator_is_not_vacuous(request_validator):
    body = order_request().to_json()
    create = request_validator("#/components/schemas/CreateOrderV2Request")
    with pytest.raises(jsonschema.ValidationError):
        create.validate({**body, "side": "yes"})  # V1's vocabulary
    with pytest.raises(jsonschema.ValidationError):
        create.validate({**body, "count": 10})
    without_stp = {key: value for key, value in body.items() if key != "self_trade_prevention_type"}
    with pytest.raises(jsonschema.ValidationError):
        create.validate(without_stp)


def test_the_retired_v1_order_mutations_are_not_what_we_call(spec):
    """V1 create and cancel answer 410 now; the 3.31.0 spec keeps only reads under /portfolio/orders."""
    v1 = spec["paths"].get("/portfolio/orders", {})
    assert "post" not in v1 or v1["post"].get("deprecated"), "the spec documents V1 create as live again"
    mutations = [call for _, call in CALLS if isinstance(call, Command)]
    assert mutations
    assert all(not call.template.startswith("/portfolio/orders") for call in mutations)


# --- responses ---------------------------------------------------------------------------------

MODES = ("required", "all", "nulls")


def synthesise(spec, node: dict[str, Any], mode: str, depth: int = 0) -> Any:
    """A value fitting ``node``: its example if it has one, else one per type; arrays get one item."""
    nullable = node.get("nullable") is True
    if "example" in node and not (mode == "nulls" and nullable):  # an example beside a $ref wins
        return copy.deepcopy(node["example"])
    node = resolve(spec, node)
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            merged.update(resolve(spec, part))
        nullable = nullable or node.get("nullable") is True
        node = merged
    if mode == "nulls" and nullable:
        return None
    if "example" in node:
        return copy.deepcopy(node["example"])
    if node.get("enum"):
        return next(value for value in node["enum"] if value is not None)
    kind = node.get("type", "object")
    if kind == "object":
        properties = node.get("properties", {})
        names = node.get("required", []) if mode == "required" else list(properties)
        return {name: synthesise(spec, properties[name], mode, depth + 1) for name in names if name in properties}
    if kind == "array":
        return [synthesise(spec, node["items"], mode, depth + 1)] if depth < 6 else []
    if kind == "string":
        return "2026-03-02T15:00:00Z" if node.get("format") == "date-time" else TICKER
    return {"integer": 1772463600, "number": 44.5, "boolean": True}[kind]


def response_schema(spec, call: Call) -> dict[str, Any] | None:
    for status, response in operation(spec, call)["responses"].items():
        if str(status).startswith("2"):
            content = resolve(spec, response).get("content", {})
            return content.get("application/json", {}).get("schema")
    return None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "call"), CALLS, ids=IDS)
def test_synthesised_responses_parse(spec, name, call, mode):
    schema = response_schema(spec, call)
    if schema is None:  # e.g. cancel-all's 204: the answer has no body at all
        assert set(operation(spec, call)["responses"]) & {"204", 204}, f"{call.method} {call.template}: no answer"
        call.parse(None)
        return
    parsed = call.parse(synthesise(spec, schema, mode))
    items = parsed if isinstance(parsed, tuple) else (parsed,)
    unread = [item for item in items if isinstance(item, AcceptedDetailsUnknown)]
    assert not unread, f"{name}: the spec's own answer did not parse: {unread[0].problem if unread else ''}"


def test_the_spec_examples_parse_through_our_parsers(spec):
    schemas = spec["components"]["schemas"]
    level = schemas["PriceLevelDollarsCountFp"]["example"]
    book = parse_orderbook({"orderbook_fp": {"yes_dollars": [level], "no_dollars": [level]}}, ticker=TICKER)
    assert book.yes_bids == ((Decimal(level[0]), Decimal(level[1])),)
    settlement = parse_settlement(synthesise(spec, {"$ref": "#/components/schemas/Settlement"}, "all"))
    assert settlement.fee_cost == Decimal(schemas["Settlement"]["properties"]["fee_cost"]["example"])
    assert settlement.yes_total_cost == Decimal(schemas["FixedPointDollars"]["example"])
    assert settlement.yes_count == Decimal(schemas["FixedPointCount"]["example"])


def test_response_examples_are_used_where_the_spec_has_them(spec):
    """Guard against a spec update that moves examples out of reach of the synthesiser."""
    market = synthesise(spec, {"$ref": "#/components/schemas/Market"}, "required")
    assert market["yes_bid_dollars"] == spec["components"]["schemas"]["FixedPointDollars"]["example"]
