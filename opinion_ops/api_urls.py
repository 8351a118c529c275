"""Routes of the REST API, versioned under /api/v1/ (docs/api.md)."""

from django.apps import apps
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from integrations.api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet
from integrations.api_errors import api_not_found

router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="api-webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="api-webhook-delivery")
if apps.is_installed("notifications"):
    from integrations.notifications_api import NotificationViewSet

    router.register("notifications", NotificationViewSet, basename="api-notification")

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("incidents.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include(router.urls)),
    re_path(r"^.*$", api_not_found),
]
