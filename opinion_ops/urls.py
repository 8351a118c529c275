from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opinion_ops.views import health_page, healthz

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("ops/health/", health_page, name="ops_health"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("opinion_ops.api.urls")),
    path("notifications/", include("notifications.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("", include("incidents.urls")),
]
