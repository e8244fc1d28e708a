from __future__ import annotations

from django.contrib import admin

from kalshiweb.admin import ReadOnlyAdmin
from prediction.models import BracketProbability, ModelVersion, Prediction


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "kind", "status", "trained_at", "promoted_at", "training_start", "training_end"]
    list_filter = ["kind", "status", "name"]
    search_fields = ["name", "notes"]
    exclude = ["artifact"]


class BracketProbabilityInline(admin.TabularInline[BracketProbability, Prediction]):
    model = BracketProbability
    extra = 0
    can_delete = False
    readonly_fields = ["market", "probability"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ["event", "as_of", "model_version", "mean_f", "std_f", "running_max_f"]
    list_filter = ["model_version"]
    search_fields = ["event__event_ticker"]
    date_hierarchy = "as_of"
    inlines = [BracketProbabilityInline]
