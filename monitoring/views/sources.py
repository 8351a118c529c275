"""信息来源: the unit's sources with their health; adding and editing feeds, 立即抓取, disabling and
deleting; renaming the API, import and manual sources."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitoring import config
from monitoring.config_forms import FeedForm, SourceNameForm
from monitoring.models import Source
from monitoring.views.config import UnitAccess, config_page, config_render, form_disable
from opinion_ops.pages import form_service_call, message_service_call


@config_page()
@require_GET
def sources(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    days = config.health_days()
    rows = [
        {"source": health.source, "per_day": list(zip(days, health.per_day, strict=True)), "week": health.week}
        for health in config.sources_health(access.organization_id, days=len(days))
    ]
    return config_render(request, "monitoring/config/sources.html", "sources", access, {"rows": rows})


@config_page(manage=True)
@require_http_methods(["GET", "POST"])
def source_add(request: HttpRequest, access: UnitAccess) -> HttpResponse:
    form = FeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = form_service_call(form, lambda: config.source_feed_add(actor=request.user, **data))
        if source is not None:
            messages.success(request, _("已添加订阅源“%(name)s”，将在一两分钟内首次抓取。") % {"name": source.name})
            return redirect("monitoring:sources")
    return config_render(
        request,
        "monitoring/config/source_form.html",
        "sources",
        access,
        {"form": form, "source": None},
        status=400 if form.is_bound and form.errors else 200,
    )


def _source(access: UnitAccess, pk: int) -> Source:
    source = config.source_of_unit(access.organization_id, pk)
    if source is None:
        raise Http404(_("信息来源不存在。"))
    return source


@config_page()
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    source = _source(access, pk)
    is_feed = source.kind == Source.Kind.FEED
    form: FeedForm | SourceNameForm
    if is_feed:
        initial = {
            "name": source.name,
            "url": source.url,
            "platform": source.platform,
            "interval_minutes": source.interval_minutes,
            "enabled": source.enabled,
        }
        form = FeedForm(request.POST or None, initial=initial)
    else:
        form = SourceNameForm(request.POST or None, initial={"name": source.name, "platform": source.platform})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = form_service_call(form, lambda: config.source_update(actor=request.user, source_id=pk, **data))
        if saved is not None:
            messages.success(request, _("已保存信息来源“%(name)s”。") % {"name": saved.name})
            return redirect("monitoring:sources")
    if not access.can_manage:
        form_disable(form)
    return config_render(
        request,
        "monitoring/config/source_form.html",
        "sources",
        access,
        {"form": form, "source": source},
        status=400 if form.is_bound and form.errors else 200,
    )


@config_page()
@require_POST
def source_poll(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    source = message_service_call(request, lambda: config.source_poll_now(actor=request.user, source_id=pk))
    if source is not None:
        messages.success(request, _("已安排立即抓取“%(name)s”，一两分钟内完成。") % {"name": source.name})
    return redirect("monitoring:sources")


@config_page()
@require_POST
def source_disable(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    source = message_service_call(request, lambda: config.source_disable(actor=request.user, source_id=pk))
    if source is not None:
        messages.success(request, _("已停用“%(name)s”，不再抓取；已采集的信息保留。") % {"name": source.name})
    return redirect("monitoring:sources")


@config_page()
@require_POST
def source_delete(request: HttpRequest, access: UnitAccess, pk: int) -> HttpResponse:
    name = _source(access, pk).name
    deleted = message_service_call(request, lambda: config.source_delete(actor=request.user, source_id=pk))
    if deleted:
        messages.success(request, _("已删除“%(name)s”。") % {"name": name})
    elif deleted is not None:
        messages.warning(
            request,
            _("“%(name)s”已采集过信息，不能删除（每条信息都须注明来源），已改为停用。") % {"name": name},
        )
    return redirect("monitoring:sources")
