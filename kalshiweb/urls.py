"""URL map: the status page, the dashboard, admin, API, health and metrics."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dashboard.views.status import status_page
from kalshiweb import api, login, metrics, views

handler404 = api.not_found  # JSON in the API's error shape under /api/, Django's pages elsewhere
handler500 = api.server_error
admin.site.site_header = "kalshiweb administration"
admin.site.site_title = "kalshiweb"
admin.site.index_title = "Operate"

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.ApiRootApi.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", api.ObtainTokenApi.as_view(), name="api-token"),
    path("health/", api.HealthApi.as_view(), name="api-health"),
    path("", include("trading.urls")),
    path("", include("weather.urls")),
    path("", include("markets.urls")),
    path("", include("prediction.urls")),
    path("", include("backtesting.urls")),
]

urlpatterns = [
    path("", status_page, name="home"),
    path("health/", views.health, name="health"),
    path("dashboard/", include("dashboard.urls")),
    path("admin/login/", login.throttled_login),  # before the admin's own: failures are throttled
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    path("metrics", metrics.metrics_view, name="prometheus-django-metrics"),
]
