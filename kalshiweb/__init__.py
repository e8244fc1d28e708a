"""kalshiweb: a trading system for Kalshi's daily temperature markets."""

from kalshiweb.dotenv import load_local_env

# Before anything reads settings: every entry point (manage.py, ASGI, WSGI,
# the celery CLI) imports this package first.
load_local_env()

from kalshiweb.celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
