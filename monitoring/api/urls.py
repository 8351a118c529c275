from rest_framework.routers import SimpleRouter

from monitoring.api.views import AlertViewSet, MentionViewSet, PostViewSet, SchemeViewSet

router = SimpleRouter()
router.register("mentions", MentionViewSet, basename="api-mention")
router.register("posts", PostViewSet, basename="api-post")
router.register("schemes", SchemeViewSet, basename="api-scheme")
router.register("alerts", AlertViewSet, basename="api-alert")
urlpatterns = router.urls
