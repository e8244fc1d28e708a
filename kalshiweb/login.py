"""The sign-in every session starts from (the admin's login), throttled on failures.

Session authentication itself checks no password: the login form does, so that is where guessing
is slowed. Only failed attempts count, at the rate of the token endpoint (REST_FRAMEWORK's "auth"),
per client address as DRF identifies it; a successful sign-in is never refused.
"""

from __future__ import annotations

import math

from django.contrib import admin
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle


class _Failures(SimpleRateThrottle):
    """DRF's rate ("10/minute") and client identity, without its per-request counting."""

    scope = "auth"

    def __init__(self, request: HttpRequest) -> None:
        super().__init__()
        self.limit, self.window = self.parse_rate(self.get_rate())
        self.key = f"login-failures:{self.get_ident(request)}"  # type: ignore[arg-type]

    def recent(self, *, now: float) -> list[float]:
        """When this address failed within the rate's window, oldest first."""
        return [t for t in cache.get(self.key, []) if t > now - (self.window or 0)]


def retry_after(request: HttpRequest, *, now: float) -> int | None:
    """Seconds until this address may try again, or None when it may try now."""
    rule = _Failures(request)
    recent = rule.recent(now=now)
    if rule.limit is None or rule.window is None or len(recent) < rule.limit:
        return None
    return max(1, math.ceil(rule.window - (now - recent[-rule.limit])))


def record_failure(request: HttpRequest, *, now: float) -> None:
    rule = _Failures(request)
    cache.set(rule.key, [*rule.recent(now=now), now], rule.window)


def throttled_login(request: HttpRequest) -> HttpResponse:
    """The admin's login view; after too many failures from one address, 429 with Retry-After."""
    if request.method != "POST":
        return admin.site.login(request)
    now = timezone.now().timestamp()
    wait = retry_after(request, now=now)
    if wait is not None:
        response = render(request, "throttled.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response
    response = admin.site.login(request)
    if response.status_code == 200:  # the form again, with its error: a wrong password (success redirects)
        record_failure(request, now=now)
    return response
