"""The web container's health check: GET /health/ as the TLS-terminating proxy sends it.

In production Django answers 400 to a Host it does not serve and redirects plain http, so the
probe names the first of DJANGO_ALLOWED_HOSTS and, when DJANGO_PROXY_SSL_HEADER is set, says
the request came over TLS. Exit 0 on 200 (ok or degraded), 1 otherwise: /health/ answers 503
when a critical component (database, channel layer, broker, worker) is down.
"""

from __future__ import annotations

import http.client
import os
import sys


def probe_headers(environ: dict[str, str]) -> dict[str, str]:
    """Host and TLS headers that pass ALLOWED_HOSTS and SECURE_SSL_REDIRECT."""
    allowed = environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    headers = {"Host": allowed if allowed and allowed != "*" else "localhost"}
    if proxy_header := environ.get("DJANGO_PROXY_SSL_HEADER", "").strip():
        headers[proxy_header] = "https"
    return headers


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    # http.client, not urllib: a redirect must fail the check, never be followed off the machine.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health/", headers=probe_headers(dict(os.environ)))
        status = connection.getresponse().status
    except OSError as exc:
        sys.stdout.write(f"health: {exc}\n")
        return 1
    finally:
        connection.close()
    sys.stdout.write(f"health: HTTP {status}\n")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
