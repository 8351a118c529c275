from rest_framework.routers import SimpleRouter

from notifications.api.views import NotificationViewSet, WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("webhooks", WebhookSubscriptionViewSet, basename="api-webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="api-webhook-delivery")
urlpatterns = router.urls
