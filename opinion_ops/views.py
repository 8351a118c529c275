"""The operators' health page, the monitors' health endpoint, and the icon for pages that name none."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache

from opinion_ops.health import health_report


@login_required
@never_cache
def health_page(request: HttpRequest) -> HttpResponse:
    """/ops/health/: every check with its details (superusers: the installation's operators)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    checks = health_report()
    return render(
        request,
        "ops/health.html",
        {"checks": checks, "all_ok": all(check.ok for check in checks), "now": timezone.now()},
        status=200 if all(check.ok or not check.critical for check in checks) else 503,
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """/healthz: status only, for load balancers and monitoring; 503 when a critical part is down."""
    checks = health_report()
    critical_down = any(not check.ok and check.critical for check in checks)
    status = "down" if critical_down else "ok" if all(check.ok for check in checks) else "degraded"
    return JsonResponse(
        {"status": status, "checks": {check.name: check.ok for check in checks}}, status=503 if critical_down else 200
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin): the product's icon."""
    return redirect(static("favicon.svg"), permanent=True)
