from rest_framework.routers import SimpleRouter

from evidence.api.views import EvidenceViewSet

router = SimpleRouter()
router.register("evidence", EvidenceViewSet, basename="api-evidence")
urlpatterns = router.urls
