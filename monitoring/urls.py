from django.urls import include, path

from monitoring.views import posts_manual

app_name = "monitoring"
urlpatterns = [
    path("incidents/<int:pk>/mentions/add/", posts_manual.mention_add, name="mention_add"),
    path("", include("monitoring.urls_config")),
    path("", include("monitoring.urls_alerts")),
    path("", include("monitoring.urls_posts")),
]
