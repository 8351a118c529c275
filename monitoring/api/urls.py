from rest_framework.routers import SimpleRouter

from monitoring.api.views import MentionViewSet

router = SimpleRouter()
router.register("mentions", MentionViewSet, basename="api-mention")
urlpatterns = router.urls
