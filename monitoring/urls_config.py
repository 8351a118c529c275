"""The monitoring configuration pages: sources, schemes, the duty roster, the unit's settings."""

from django.urls import URLPattern, path

from monitoring.views import config, duty, schemes, sources

urlpatterns: list[URLPattern] = [
    path("sources/", sources.sources, name="sources"),
    path("sources/add/", sources.source_add, name="source_add"),
    path("sources/<int:pk>/", sources.source_edit, name="source_edit"),
    path("sources/<int:pk>/poll/", sources.source_poll, name="source_poll"),
    path("sources/<int:pk>/disable/", sources.source_disable, name="source_disable"),
    path("sources/<int:pk>/delete/", sources.source_delete, name="source_delete"),
    path("schemes/", schemes.schemes, name="schemes"),
    path("schemes/add/", schemes.scheme_add, name="scheme_add"),
    path("schemes/<int:pk>/", schemes.scheme_edit, name="scheme_edit"),
    path("duty/", duty.duty, name="duty"),
    path("duty/<int:pk>/remove/", duty.duty_remove, name="duty_remove"),
    path("settings/", config.monitoring_settings, name="monitoring_settings"),
]
