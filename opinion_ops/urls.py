from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from opinion_ops.views import favicon, health_page, healthz

urlpatterns = [
    path("accounts/", include("accounts.urls")),  # login, logout, two-factor, 账号安全
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin signs in through the same page (lockout and second factor included).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("ops/health/", health_page, name="ops_health"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin).
    path("favicon.ico", favicon),
    path("api/v1/", include("opinion_ops.api.urls")),
    path("notifications/", include("notifications.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("evidence/", include("evidence.urls")),  # 存证: upload, withdraw, files after a visibility check
    path("reports/", include("reports.urls")),  # a written report as .docx or PDF (公文格式)
    path("analysis/", include("analysis.urls")),  # 研判支持: clusters, risk scores, labels, models
    path("drills/", include("drills.urls")),  # 应急演练: scenarios, schedule, drill reports
    path("unit/tokens/", include("integrations.urls")),
    path("unit/webhooks/", include("notifications.unit_urls")),
    path("unit/members/", include("accounts.unit_urls")),
    path("unit/plans/import/", include("plan_import.urls")),  # 从文件导入: before unit/plans/
    path("unit/plans/", include("incidents.plan_urls")),
    path("unit/", include("organizations.urls")),
    path("", include("incidents.urls")),
]
