"""Admin building blocks shared by the apps, and the heartbeat table."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from kalshiweb.models import Heartbeat


class ForgivingChangeList(ChangeList):
    """A change list whose query-string filters cannot crash the page.

    Django turns lookups it cannot build into "incorrect lookup parameters" (a
    redirect with ``?e=1``), but not a date-hierarchy year too large for a C
    integer (``created_time__year=99999999999``), nor lookups that only fail when
    the query runs: a year beyond the date type's, a ``__regex`` the database
    cannot compile. Those were 500s; they get the same treatment.
    """

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as exc:  # Django catches ValueError from a date-hierarchy year, not this
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request: HttpRequest) -> None:
        try:
            with transaction.atomic():  # PostgreSQL: an invalid regex must not poison the request's connection
                super().get_results(request)
        except (DatabaseError, OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class BaseAdmin(admin.ModelAdmin):
    """What every admin in the project builds on (a test checks each registered one does)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ForgivingChangeList


class ReadOnlyAdmin(BaseAdmin):
    """For rows the system writes (ledgers, tapes, audit trails): viewable, never hand-edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SingletonAdmin(BaseAdmin):
    """For one-row settings tables: the list page goes straight to the one row."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        obj = self.model.load()
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["component", "last_seen_at", "detail"]
