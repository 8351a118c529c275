"""研判支持 pages: the unit's clusters, one cluster with its posts and heat, 待标注 (posts to label),
the label control (htmx) and the unit's risk model page (model in use, its evaluation, train, roll
back, the unit's risk words). Everything is of the person's own unit: another unit's cluster, post
or model is a 404; a refusal the 403 page."""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analysis import selectors, services
from analysis.forms import LabelForm, RiskRulesForm, RiskWordsForm, TrainForm
from analysis.models import AnalysisSettings, PostLabel, RiskLabel, SchemeRiskRules
from analysis.panels import heat_chart
from analysis.policies import RULES, analysis_allows
from analysis.training import csv_read
from incidents.models import Platform
from monitoring.alerts import alerts_active
from monitoring.highlight import text_highlight
from monitoring.models import KeywordScheme, Mention
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.pages import View, form_service_call, message_service_call
from organizations.pages import unit_page
from organizations.policies import UNIT_RULES, unit_allows

PAGE_SIZE = 50
TEXT_SHOWN = 600


def _refused(request: HttpRequest, message: object) -> HttpResponse:
    template = "incidents/partials/refused.html" if getattr(request, "htmx", False) else "403.html"
    return render(request, template, {"message": message}, status=403)


def analysis_page(view: View) -> View:
    """Signed in and allowed to read the 研判 of their own unit; the view gets the unit id."""
    return unit_page(
        lambda user, organization_id: (
            None if analysis_allows("read_analysis", user, organization_id) else RULES["read_analysis"].forbidden
        ),
        refused_with=_refused,
    )(view)


def _page(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


def _post_rows(analyses: list[Any], may_label: bool) -> list[dict[str, Any]]:
    rows = []
    for analysis in analyses:
        post = analysis.mention
        rows.append(
            {
                "analysis": analysis,
                "post": post,
                "text": text_highlight(post.text[:TEXT_SHOWN], [w.removeprefix("不") for w in analysis.risk_words]),
                "cut": len(post.text) > TEXT_SHOWN,
                "label": _label_of(post),
                "may_label": may_label,
            }
        )
    return rows


def _label_of(post: Mention) -> str:
    """The post's label as joined by the reader ("" when none)."""
    try:
        return str(post.label.label)  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return ""


@analysis_page
@require_GET
def clusters(request: HttpRequest, organization_id: int) -> HttpResponse:
    order = request.GET.get("order", "recent")
    page = _page(request)
    rows = selectors.clusters_of_unit(
        organization_id=organization_id, order=order, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
    )
    alerts = alerts_active(organization_id, limit=10)
    counts = selectors.alerts_cluster_counts(organization_id=organization_id, alert_ids=[a.pk for a in alerts])
    return render(
        request,
        "analysis/clusters.html",
        {
            "alerts": [(alert, counts[alert.pk]) for alert in alerts],
            "clusters": rows[:PAGE_SIZE],
            "order": order if order in ("recent", "size", "risk") else "recent",
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "has_previous": page > 1,
            "platforms": dict(Platform.choices),
            "section": "clusters",
        },
    )


@analysis_page
@require_GET
def cluster_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    cluster = selectors.cluster_of_unit(organization_id=organization_id, cluster_id=pk)
    if cluster is None:
        raise Http404(_("聚类不存在。"))
    page = _page(request)
    analyses = selectors.cluster_posts(cluster=cluster, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    heat = selectors.cluster_heat(cluster=cluster)
    chart = {
        "days": heat.labels,
        "series": [
            {"name": _("负面"), "data": heat.negative, "color": "#f53f3f"},
            {
                "name": _("其他"),
                "data": [v - n for v, n in zip(heat.volume, heat.negative, strict=True)],
                "color": "#86909c",
            },
        ],
    }
    platforms = dict(Platform.choices)
    return render(
        request,
        "analysis/cluster.html",
        {
            "cluster": cluster,
            "rows": _post_rows(analyses[:PAGE_SIZE], analysis_allows("label_posts", request.user, organization_id)),
            "page": page,
            "has_next": len(analyses) > PAGE_SIZE,
            "has_previous": page > 1,
            "heat": heat,
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "platform_rows": sorted(
                ((platforms.get(k, k), n) for k, n in (cluster.platform_counts or {}).items()), key=lambda r: -r[1]
            ),
            "label_choices": RiskLabel.choices,
            "section": "clusters",
        },
    )


@analysis_page
@require_GET
def labels(request: HttpRequest, organization_id: int) -> HttpResponse:
    page = _page(request)
    analyses = selectors.posts_to_label(
        organization_id=organization_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
    )
    return render(
        request,
        "analysis/labels.html",
        {
            "rows": _post_rows(analyses[:PAGE_SIZE], analysis_allows("label_posts", request.user, organization_id)),
            "counts": selectors.label_counts(organization_id=organization_id),
            "page": page,
            "has_next": len(analyses) > PAGE_SIZE,
            "has_previous": page > 1,
            "label_choices": RiskLabel.choices,
            "section": "labels",
        },
    )


@analysis_page
@require_POST
def post_label(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """The label control next to a post: answers with the control again (htmx) or back to the page."""
    post = Mention.objects.filter(pk=pk, organization_id=organization_id).select_related("analysis").first()
    if post is None:
        raise Http404(_("信息不存在。"))
    form = LabelForm(request.POST)
    error = ""
    status = 200
    label = ""
    if form.is_valid():
        try:
            saved = services.post_label(mention_id=post.pk, label=form.cleaned_data["label"], actor=request.user)
            label = saved.label if saved else ""
        except DomainError as refusal:
            if isinstance(refusal, NotPermitted):
                raise
            error, status = str(refusal.message), 400
    else:
        error, status = " ".join(str(e) for e in form.errors.get("label", [])) or _("请选择负面、中性或正面。"), 400
        label = PostLabel.objects.filter(mention_id=post.pk).values_list("label", flat=True).first() or ""
    if getattr(request, "htmx", False):
        return render(
            request,
            "analysis/partials/label_control.html",
            {"post": post, "label": label, "may_label": True, "label_choices": RiskLabel.choices, "error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已标注。"))
    back = str(request.POST.get("next", ""))
    return redirect(back if back.startswith("/analysis/") else "analysis:labels")


# --- the unit's model


def _model_context(request: HttpRequest, organization_id: int, **extra: Any) -> dict[str, Any]:
    current = selectors.model_in_use(organization_id=organization_id)
    row = AnalysisSettings.objects.filter(organization_id=organization_id).first()
    return {
        "current": current,
        "previous": selectors.model_previous(organization_id=organization_id, current=current) if current else None,
        "history": selectors.models_of_unit(organization_id=organization_id),
        "counts": selectors.label_counts(organization_id=organization_id),
        "may_manage": analysis_allows("manage_scorer", request.user, organization_id),
        "words_form": extra.pop("words_form", None)
        or RiskWordsForm(initial={"risk_words": row.risk_words if row else ""}),
        "train_form": extra.pop("train_form", None) or TrainForm(),
        "class_labels": dict(RiskLabel.choices),
        "section": "model",
        **extra,
    }


@analysis_page
@require_GET
def model(request: HttpRequest, organization_id: int) -> HttpResponse:
    return render(request, "analysis/model.html", _model_context(request, organization_id))


@analysis_page
@require_GET
def model_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """One of the unit's models: its data, labels and held-out evaluation."""
    found = selectors.model_of_unit(organization_id=organization_id, model_id=pk)
    if found is None:
        raise Http404(_("模型不存在。"))
    return render(
        request,
        "analysis/model_detail.html",
        {"model": found, "class_labels": dict(RiskLabel.choices), "section": "model"},
    )


@analysis_page
@require_POST
def model_train(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = TrainForm(request.POST, request.FILES)
    skipped: list[tuple[int, str]] = []
    if form.is_valid():
        upload = form.cleaned_data.get("csv")

        def train() -> Any:
            if upload is None:
                return services.scorer_train(organization_id=organization_id, actor=request.user)
            rows = csv_read(upload.read())
            skipped.extend(rows.skipped)
            return services.scorer_train(
                organization_id=organization_id,
                actor=request.user,
                texts=rows.texts,
                labels=rows.labels,
                source=_("文件 %(name)s（%(n)s 条）") % {"name": upload.name[:120], "n": len(rows.texts)},
            )

        trained = form_service_call(form, train)
        if trained is not None:
            messages.success(
                request,
                _("新模型已启用，留出集准确率 %(acc).1f%%。") % {"acc": trained.evaluation.get("accuracy", 0) * 100}
                + (_("（跳过 %(n)s 行）") % {"n": len(skipped)} if skipped else ""),
            )
            return redirect("analysis:model")
    context = _model_context(request, organization_id, train_form=form, skipped=skipped[:50])
    return render(request, "analysis/model.html", context, status=400)


@analysis_page
@require_POST
def model_rollback(request: HttpRequest, organization_id: int) -> HttpResponse:
    def rollback() -> bool:
        services.scorer_rollback(organization_id=organization_id, actor=request.user)
        return True

    if message_service_call(request, rollback):
        messages.success(request, _("已回退到上一个模型。"))
    return redirect("analysis:model")


@analysis_page
@require_POST
def risk_words(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = RiskWordsForm(request.POST)
    if form.is_valid():
        saved = form_service_call(
            form,
            lambda: services.analysis_settings_update(
                organization_id=organization_id, actor=request.user, risk_words=form.cleaned_data["risk_words"]
            ),
        )
        if saved is not None:
            messages.success(request, _("本单位风险词已保存，新采集的信息按新词评分。"))
            return redirect("analysis:model")
    return render(request, "analysis/model.html", _model_context(request, organization_id, words_form=form), status=400)


# --- keyword schemes: heat and the alert rules on risk and growth


def _scheme_of_unit(organization_id: int, pk: int) -> KeywordScheme:
    scheme = KeywordScheme.objects.filter(pk=pk, organization_id=organization_id).first()
    if scheme is None:
        raise Http404(_("监测方案不存在。"))
    return scheme


@analysis_page
@require_GET
def schemes(request: HttpRequest, organization_id: int) -> HttpResponse:
    return render(
        request,
        "analysis/schemes.html",
        {"schemes": selectors.schemes_of_unit(organization_id=organization_id), "section": "schemes"},
    )


def _rules_initial(rules: SchemeRiskRules | None) -> dict[str, Any]:
    if rules is None:
        return {"risky_minutes": 60, "growth_minutes": 60, "growth_min_posts": 10, "cluster_minutes": 60}
    return {name: getattr(rules, name) for name in services.RULE_FIELDS}


@analysis_page
def scheme_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """A scheme's heat (24 windows) and its alert rules on risk and growth (editable by those who
    manage monitoring)."""
    scheme = _scheme_of_unit(organization_id, pk)
    rules = SchemeRiskRules.objects.filter(scheme=scheme).first()
    may_manage = unit_allows("manage_monitoring", request.user, organization_id)
    form = RiskRulesForm(initial=_rules_initial(rules))
    status = 200
    if request.method == "POST":
        if not may_manage:
            return _refused(request, UNIT_RULES["manage_monitoring"].forbidden)
        form = RiskRulesForm(request.POST)
        if form.is_valid():
            saved = form_service_call(
                form,
                lambda: services.scheme_risk_rules_update(scheme_id=scheme.pk, actor=request.user, **form.cleaned_data),
            )
            if saved is not None:
                messages.success(request, _("预警规则已保存，从下一批信息起生效。"))
                return redirect("analysis:scheme_detail", scheme.pk)
        status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    window = rules.growth_minutes if rules is not None else 60
    heat = selectors.scheme_heat(scheme_id=scheme.pk, window_minutes=window)
    return render(
        request,
        "analysis/scheme.html",
        {
            "scheme": scheme,
            "rules": rules,
            "form": form,
            "may_manage": may_manage,
            "heat": heat,
            "heat_chart": heat_chart(heat),
            "window": window,
            "growth_percent": round(heat.growth * 100) if heat.growth is not None else None,
            "negative_percent": round(heat.negative_share * 100),
            "platforms": [(dict(Platform.choices).get(name, name), n) for name, n in heat.platforms.items()],
            "section": "schemes",
        },
        status=status,
    )
