"""The Celery application. Configuration comes from settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")

app = Celery("kalshiweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
