"""HTTP middleware of our own: request ids and the access log, the content security policy, caching, load.

Django's SecurityMiddleware does HSTS, the SSL redirect and the proxy header
(configured in settings from the environment); these cover what it does not.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kalshiweb.logconfig import current_request_id
from kalshiweb.metrics import HTTP_IN_PROGRESS

access_logger = logging.getLogger("kalshiweb.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only when it is short and plain: it is echoed into logs and headers.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

Handler = Callable[[HttpRequest], HttpResponse]


def request_id_of(request: HttpRequest) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if _ACCEPTED_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Tags each request with an id (the proxy's, or a new one), returns it, and logs one access line.

    The access line carries method, path (never the query string: tokens and
    filters may sit there), status, duration and user, so a slow or failing
    request in the log can be matched with the client's report of it.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            access_logger.info(
                "%s %s %s %.1fms user=%s id=%s",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                user.get_username() if user is not None and user.is_authenticated else "-",
                request_id,
                extra={"status": response.status_code, "method": request.method, "path": request.path},
            )
            return response
        finally:
            current_request_id.reset(token)


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY with a fresh nonce for our own inline scripts.

    Templates mark an inline script ``<script nonce="{{ csp_nonce }}">``; any
    script without it, injected or not, does not run. ``{nonce}`` in the policy
    is replaced per response; an empty policy sends no header.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy.replace("{nonce}", request.csp_nonce)  # type: ignore[attr-defined]
        return response


class PrivateCacheMiddleware:
    """Pages and API answers hold trading data: unless a view says otherwise, no cache may keep them.

    Static files are WhiteNoise's, which returns them before this runs and
    marks the hashed ones immutable.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response


class RequestsInProgressMiddleware:
    """Counts the requests being served now (kalshiweb_http_requests_in_progress), across processes.

    django-prometheus counts requests once they finish; this shows a web
    process stuck on slow ones while it is stuck.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with HTTP_IN_PROGRESS.track_inprogress():
            return self.get_response(request)
