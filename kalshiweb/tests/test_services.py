from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from kalshiweb.schedule import periodic_tasks
from kalshiweb.services import TASK_PREFIX, ensure_admin_user, sync_periodic_tasks

pytestmark = pytest.mark.django_db


def test_it_syncs_the_schedule_into_beat_idempotently():
    names = sync_periodic_tasks()
    assert names == sorted(TASK_PREFIX + spec.name for spec in periodic_tasks())
    sync_periodic_tasks()
    heartbeat = PeriodicTask.objects.get(name=TASK_PREFIX + "heartbeat")
    assert heartbeat.task == "kalshiweb.tasks.heartbeat_task"
    assert heartbeat.interval.period == IntervalSchedule.SECONDS
    assert PeriodicTask.objects.filter(name__startswith=TASK_PREFIX).count() == len(names)


def test_it_removes_our_dropped_tasks_but_leaves_the_operators_own():
    every_minute = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name=TASK_PREFIX + "retired", task="x.y", interval=every_minute)
    PeriodicTask.objects.create(name="operator's report", task="x.report", interval=every_minute)
    sync_periodic_tasks()
    assert not PeriodicTask.objects.filter(name=TASK_PREFIX + "retired").exists()
    assert PeriodicTask.objects.filter(name="operator's report").exists()


def test_it_creates_one_admin_with_a_generated_password():
    account = ensure_admin_user(username="admin", password=None)
    assert account.created
    assert account.password and len(account.password) >= 16
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(account.password)
    again = ensure_admin_user(username="admin", password=None)
    assert (again.created, again.password) == (False, None)


def test_the_setup_command_prepares_everything(tmp_path, settings, capsys):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("setup")
    out = capsys.readouterr().out
    assert "Database migrated." in out
    assert "Cities: 20 known, 7 active." in out
    assert "Created admin user 'admin' with password" in out
    assert (tmp_path / "static" / "admin" / "css" / "base.css").exists()
    call_command("setup")
    assert "Admin user: admin (exists)." in capsys.readouterr().out


def test_the_heartbeat_task_records_the_worker(django_assert_num_queries):
    from kalshiweb.models import Heartbeat
    from kalshiweb.tasks import heartbeat_task, ping_task

    heartbeat_task.delay()
    assert Heartbeat.objects.get(component="worker").detail["host"]
    assert ping_task.delay().get() == "pong"
