"""What the monitoring configuration pages share (who may open them, the sub-navigation of 监测) and
the unit's 监测设置 page. Sources, schemes and the duty roster have a module each.

Reading is open to the unit's working-group members ("handle_alerts") and to those who manage its
monitoring; every POST needs "manage_monitoring", and the services ask it again."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from monitoring import config
from monitoring.config_forms import MonitoringSettingsForm
from opinion_ops.errors import NotPermitted
from opinion_ops.pages import form_service_call, refused_page
from organizations.policies import UNIT_RULES, unit_allows
from organizations.roles import user_organization_id

READ_RULES = ("handle_alerts", "manage_monitoring")


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise
    url_name: str
    rules: tuple[str, ...]  # any of them opens the page


NAV = (
    NavItem("alerts", gettext_lazy("预警"), "monitoring:alerts", ("handle_alerts",)),
    NavItem("posts", gettext_lazy("信息检索"), "monitoring:posts", ("handle_alerts",)),
    NavItem("posts_import", gettext_lazy("导入"), "monitoring:posts_import", ("handle_alerts",)),
    NavItem("sources", gettext_lazy("信息来源"), "monitoring:sources", READ_RULES),
    NavItem("schemes", gettext_lazy("监测方案"), "monitoring:schemes", READ_RULES),
    NavItem("duty", gettext_lazy("值班表"), "monitoring:duty", READ_RULES),
    NavItem("monitoring_settings", gettext_lazy("监测设置"), "monitoring:monitoring_settings", READ_RULES),
    NavItem("analysis", gettext_lazy("研判支持"), "analysis:clusters", ("handle_alerts",)),
)


def monitoring_nav(user: Any, current: str) -> list[dict[str, Any]]:
    """The 监测 sub-navigation for this person: the pages they may open (and that exist), the current
    one marked. Pages of 监测 pass it to templates/monitoring/partials/nav.html as `monitoring_nav`."""
    organization_id = user_organization_id(user)
    allowed = {rule: unit_allows(rule, user, organization_id) for rule in READ_RULES}
    items = []
    for item in NAV:
        if not any(allowed.get(rule) for rule in item.rules):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # a page another part of 监测 has not added yet
            continue
        items.append({"key": item.key, "label": item.label, "url": url, "current": item.key == current})
    return items


@dataclass(frozen=True)
class UnitAccess:
    organization_id: int
    can_manage: bool


View = Callable[..., HttpResponse]


def config_page(*, manage: bool = False) -> Callable[[View], View]:
    """A configuration page of the user's own unit: readable with "handle_alerts" or
    "manage_monitoring"; a POST (or, with `manage`, any request) needs "manage_monitoring". The view
    gets the unit and whether the person may change things."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organization_id = user_organization_id(request.user)
            can_manage = unit_allows("manage_monitoring", request.user, organization_id)
            if not can_manage and not unit_allows("handle_alerts", request.user, organization_id):
                return refused_page(request, UNIT_RULES["handle_alerts"].forbidden)
            if not can_manage and (manage or request.method == "POST"):
                return refused_page(request, UNIT_RULES["manage_monitoring"].forbidden)
            assert organization_id is not None  # unit_allows refuses anyone without a unit
            try:
                return view(request, UnitAccess(organization_id, can_manage), *args, **kwargs)
            except NotPermitted as refusal:  # the service's own rule refused (the role went meanwhile)
                return refused_page(request, refusal.message)

        return wrapped

    return decorate


def config_render(
    request: HttpRequest, template: str, section: str, access: UnitAccess, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.update(
        monitoring_nav=monitoring_nav(request.user, section), monitoring_section=section, can_manage=access.can_manage
    )
    return render(request, template, context, status=status)


def form_disable(form: Any) -> Any:
    """The form drawn for reading only (those who may not change it)."""
    for field in form.fields.values():
        field.disabled = True
    return form


# --- 监测设置


@config_page()
@require_http_methods(["GET", "POST"])
def monitoring_settings(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    current = config.monitoring_settings_of(access.organization_id)
    initial = {"exclusions": current.exclusions, "retention_days": current.retention_days}
    form = MonitoringSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = form_service_call(
            form,
            lambda: config.monitoring_settings_save(
                actor=request.user, exclusions=data["exclusions"], retention_days=data["retention_days"]
            ),
        )
        if saved is not None:
            messages.success(request, _("监测设置已保存，对此后采集的信息生效。"))
            return redirect("monitoring:monitoring_settings")
    if not access.can_manage:
        form_disable(form)
    return config_render(
        request,
        "monitoring/config/settings.html",
        "monitoring_settings",
        access,
        {"form": form, "settings": current, "purges": config.post_purges_recent(access.organization_id)},
        status=400 if form.is_bound and form.errors else 200,
    )
