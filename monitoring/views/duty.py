"""值班表: who is on duty now, the current and upcoming shifts, adding and removing one."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from monitoring import config
from monitoring.config_forms import DutyShiftForm
from monitoring.views.config import UnitAccess, config_page, config_render
from opinion_ops.pages import form_service_call, message_service_call


@config_page()
@require_http_methods(["GET", "POST"])
def duty(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    people = config.unit_people(access.organization_id)
    form = DutyShiftForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        shift = form_service_call(
            form,
            lambda: config.duty_shift_add(
                actor=request.user,
                user_id=data["user"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            ),
        )
        if shift is not None:
            messages.success(request, _("已安排值班。"))
            return redirect("monitoring:duty")
    now = timezone.now()
    shifts = config.duty_shifts_ahead(access.organization_id, now)
    current = [shift for shift in shifts if shift.starts_at <= now]
    on_duty = list({shift.user_id: shift.user for shift in current}.values())
    return config_render(
        request,
        "monitoring/config/duty.html",
        "duty",
        access,
        {"form": form, "shifts": shifts, "on_duty": on_duty, "now": now},
        status=400 if form.is_bound and form.errors else 200,
    )


@config_page()
@require_POST
def duty_remove(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    removed = message_service_call(request, lambda: config.duty_shift_remove(actor=request.user, shift_id=pk))
    if removed is not None:
        messages.success(request, _("已取消该值班安排。"))
    return redirect("monitoring:duty")
