"""What the REST tests share: a signed call through the ASGI app, and a check against Kalshi's OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from localexchange.rest import BASE, RestApp
from markets.signing import RequestSigner

SPEC_FILE = "openapi-3.31.0.yaml"  # the current document (openapi.yaml keeps 3.13.0, which lacks the V2 orders)


def signed_call(
    app: RestApp,
    keys: Mapping[str, Any],
    member: str,
    method: str,
    path: str,
    body: object = None,
    *,
    params: Mapping[str, str | int] | None = None,
    now: float,
) -> tuple[int, Any]:
    """One request signed as the Kalshi client signs it, through the ASGI app; (status, JSON or None)."""
    signer = RequestSigner(member, keys[member], clock=lambda: now)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            headers = signer.headers(method, BASE + path)
            content = orjson.dumps(body) if body is not None else None
            return await client.request(method, BASE + path, headers=headers, content=content, params=params)

    response = asyncio.run(go())
    return response.status_code, response.json() if response.content else None


def spec_checker(spec_dir: Path) -> Callable[[object, str], None]:
    """``check(payload, schema)``: raise unless ``payload`` is valid as the spec's ``components/schemas/<schema>``."""
    import jsonschema
    import referencing
    import referencing.jsonschema
    import yaml

    document = yaml.safe_load((spec_dir / SPEC_FILE).read_text(encoding="utf-8"))
    registry = referencing.Registry().with_resource("urn:spec", referencing.jsonschema.DRAFT4.create_resource(document))

    def check(payload: object, schema: str) -> None:
        ref = {"$ref": f"urn:spec#/components/schemas/{schema}"}
        jsonschema.Draft4Validator(ref, registry=registry).validate(payload)

    return check
