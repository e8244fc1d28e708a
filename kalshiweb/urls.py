"""URL map: the status page, admin, API, health and metrics."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from kalshiweb import views

admin.site.site_header = "kalshiweb administration"
admin.site.site_title = "kalshiweb"
admin.site.index_title = "Operate"

api_urlpatterns = [
    path("", include("trading.urls")),
    path("", include("weather.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
    path("", include("django_prometheus.urls")),  # /metrics
]
