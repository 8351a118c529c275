"""The alerts pages: the unit's alerts (the monitoring home), one alert, and what is done with it."""

from django.urls import URLPattern, path

from monitoring.views import alerts

urlpatterns: list[URLPattern] = [
    path("", alerts.alerts, name="alerts"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/<slug:action>/", alerts.alert_act, name="alert_act"),
]
