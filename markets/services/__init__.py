"""Workflows of the markets app that span models or reach Kalshi (discovery, sync, backfill, settlement).

Services take what they depend on (a client, the current time) as keyword
arguments, so tests run them on a fake exchange and a fixed clock; Celery
tasks and management commands build the real client and pass timezone.now().
"""
