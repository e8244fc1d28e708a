"""What the web process serves now: HTTP requests in progress and open dashboard WebSockets.

Gauges count up and down in the process that serves them; in multiprocess
mode ``livesum`` adds the live processes' values and forgets a process once
it is marked dead (kalshiweb.metrics.exposition.forget_process).
"""

from __future__ import annotations

from prometheus_client import Gauge

HTTP_IN_PROGRESS = Gauge(
    "kalshiweb_http_requests_in_progress", "HTTP requests being served now", multiprocess_mode="livesum"
)
WEBSOCKET_CONNECTIONS = Gauge(
    "kalshiweb_websocket_connections", "Dashboard WebSockets open now", ["stream"], multiprocess_mode="livesum"
)
# A count that only grows, but typed a gauge: a counter's family would be named kalshiweb_websocket_connections,
# the open-now gauge's name. rate() and increase() read it as they read a counter; "sum" keeps the
# counts of processes that ended, as counters' files are kept.
WEBSOCKET_CONNECTIONS_TOTAL = Gauge(
    "kalshiweb_websocket_connections_total", "Dashboard WebSockets accepted", ["stream"], multiprocess_mode="sum"
)
