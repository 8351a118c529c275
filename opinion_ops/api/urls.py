"""Routes of the REST API, versioned under /api/v1/ (docs/api.md). Each app brings its own router;
they are mounted here by name, so the platform imports none of them."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django.urls import URLPattern, URLResolver, include, path, re_path

from opinion_ops.api.base import ApiNotFoundView
from opinion_ops.api.schema import ApiRedocView, ApiSchemaView, ApiSwaggerView

APP_ROUTES = ["incidents.api.urls", "monitoring.api.urls", "evidence.api.urls", "notifications.api.urls"]

# What Redoc (drf-spectacular-sidecar 2026.10.1) needs beyond the site's policy, on its page only: its
# styles are <style> elements written at run time, given this response's nonce (static/js/redoc.js),
# except the scrollbar CSS it writes while loading, allowed by hash (with the empty element it starts
# as); its search runs in a worker made from its own code (blob:). tests/test_csp_browser.py names
# anything new after an upgrade.
REDOC_POLICY = {
    "style-src": [
        NONCE,
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ],
    "worker-src": ["blob:"],
}

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", ApiSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", csp_update(REDOC_POLICY)(ApiRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    *[path("", include(module)) for module in APP_ROUTES],
    re_path(r"^.*$", ApiNotFoundView.as_view()),
]
