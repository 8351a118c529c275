"""Routes of the REST API, versioned under /api/v1/ (docs/api.md). Each app brings its own router;
they are mounted here by name, so the platform imports none of them."""

from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opinion_ops.api.errors import api_not_found

APP_ROUTES = ["incidents.api.urls", "monitoring.api.urls", "notifications.api.urls"]

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *[path("", include(module)) for module in APP_ROUTES],
    re_path(r"^.*$", api_not_found),
]
