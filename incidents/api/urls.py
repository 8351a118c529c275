from rest_framework.routers import SimpleRouter

from incidents.api import records
from incidents.api.views import IncidentViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="api-incident")
router.register("assessments", records.AssessmentViewSet, basename="api-assessment")
router.register("reviews", records.ReviewViewSet, basename="api-review")
router.register("tasks", records.TaskViewSet, basename="api-task")
router.register("measures", records.MeasureViewSet, basename="api-measure")
router.register("reports", records.ReportViewSet, basename="api-report")
router.register("statements", records.StatementViewSet, basename="api-statement")
router.register("deadlines", records.DeadlineViewSet, basename="api-deadline")
router.register("response-groups", records.ResponseGroupViewSet, basename="api-response-group")
router.register("plans", records.PlanViewSet, basename="api-plan")
urlpatterns = router.urls
