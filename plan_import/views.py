"""单位设置 → 应急预案 → 从文件导入: a unit's administrator uploads the unit's existing plan (a Word or
text file, pasted text, or a sample to start from), checks what was recognised beside the original
text, corrects or drops items, and turns the rest into the unit's plan draft, which is then compared
with the active plan and activated on the plan pages.

Plain forms that work without JavaScript; with htmx an item's form swaps only that item. Every write
is a service of plan_import.services, whose refusal is shown next to the field it names. Imports of
another unit read as not found."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import EmergencyPlan, EscalationRung
from incidents.plan_compare import minutes_words
from opinion_ops.pages import form_service_call, message_service_call
from organizations.views import unit_page, unit_render
from plan_import import services
from plan_import.findings import CHAIN, CLOCK, KINDS
from plan_import.forms import ITEM_FORMS, FileImportForm, SampleImportForm, TextImportForm, item_form
from plan_import.groups import GroupChange, MemberChange, groups_plan
from plan_import.items import KIND_LABELS, item_label
from plan_import.models import PlanImport
from plan_import.reader import plan_file_read, plan_file_size_check
from plan_import.samples import SAMPLES, sample_text

SECTION = "plans"
SOURCE_FORMS = {"file": FileImportForm, "text": TextImportForm, "sample": SampleImportForm}


def _import(organization_id: int, pk: int) -> PlanImport:
    plan_import = (
        PlanImport.objects.select_related("plan", "created_by").filter(pk=pk, organization_id=organization_id).first()
    )
    if plan_import is None:
        raise Http404(_("预案导入记录不存在。"))
    return plan_import


def _review_url(plan_import: PlanImport, anchor: str = "") -> str:
    return reverse("plan_import:review", args=[plan_import.pk]) + (f"#{anchor}" if anchor else "")


# --- starting an import


def _start_page(
    request: HttpRequest, organization_id: int, bound: forms.Form | None = None, source: str = ""
) -> HttpResponse:
    context: dict[str, Any] = {
        name: bound if name == source and bound is not None else form_class(prefix=name)
        for name, form_class in SOURCE_FORMS.items()
    }
    context |= {
        "source": source or "file",
        "imports": services.plan_imports_recent(organization_id),
        "draft": EmergencyPlan.objects.filter(
            organization_id=organization_id, status=EmergencyPlan.Status.DRAFT
        ).first(),
        "_invalid": bound is not None,
    }
    return unit_render(request, "plan_import/start.html", SECTION, context)


def _read_upload(form: forms.Form) -> tuple[str, str]:
    upload = form.cleaned_data["file"]
    plan_file_size_check(upload.size)  # refused before reading it into memory
    return upload.name, plan_file_read(name=upload.name, data=upload.read())


@unit_page("manage_plans")
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest, organization_id: int) -> HttpResponse:
    if request.method != "POST":
        return _start_page(request, organization_id)
    source = request.POST.get("source", "")
    if source not in SOURCE_FORMS:
        source = "file"
    form = SOURCE_FORMS[source](request.POST, request.FILES, prefix=source)
    if not form.is_valid():
        return _start_page(request, organization_id, form, source)

    def read() -> PlanImport:
        if source == "file":
            name, text = _read_upload(form)
            field = "file"
        elif source == "text":
            name, text, field = _("粘贴的文字"), form.cleaned_data["text"], "text"
        else:
            key = form.cleaned_data["sample"]
            name, text, field = str(dict(SAMPLES)[key]), sample_text(key), "sample"
        return services.plan_import_create(
            actor=request.user, organization_id=organization_id, source_name=name, text=text, field=field
        )

    plan_import = form_service_call(form, read)
    if plan_import is None:
        return _start_page(request, organization_id, form, source)
    messages.success(
        request,
        _("已读取《%(source)s》：%(found)s。请逐项核对，再生成预案草稿。")
        % {"source": plan_import.source_name, "found": services.counts_words(services.import_counts(plan_import))},
    )
    return redirect(_review_url(plan_import))


# --- reviewing what was recognised


def source_marks(text: str, items: list[dict[str, Any]]) -> tuple[SafeString, dict[int, str]]:
    """The text, escaped, with each item's source sentence in <mark id="src-N">, and the id of the
    mark each item's sentence is in. Overlapping sentences become one mark, named after its first item."""
    spans = []
    for index, item in enumerate(items):
        start, end = item.get("start"), item.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end, index))
    merged: list[list[int]] = []  # [start, end, first item]
    anchors: dict[int, str] = {}
    for start, end, index in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, index])
        anchors[index] = f"src-{merged[-1][2]}"
    out, position = [], 0
    for start, end, first in merged:
        out.append(str(escape(text[position:start])))
        out.append(f'<mark id="src-{first}">{escape(text[start:end])}</mark>')
        position = end
    out.append(str(escape(text[position:])))
    return mark_safe("".join(out)), anchors  # noqa: S308 - every piece of the text was escaped above


def item_facts(item: dict[str, Any]) -> list[tuple[str, str]]:
    """The item's values in words, labelled as its form labels them."""
    form_class = ITEM_FORMS[item["kind"]]
    values = item.get("values") or {}
    facts = []
    for name, field in form_class.base_fields.items():
        value = values.get(name)
        if item["kind"] == CHAIN and name == "rungs":
            labels = dict(EscalationRung.choices)
            words = " → ".join(str(labels.get(code, code)) for code in value or [])
        elif item["kind"] == CLOCK and name == "minutes":
            words = (
                _("当日答复") if values.get("same_day") else minutes_words(value if isinstance(value, int) else None)
            )
        elif isinstance(field, forms.BooleanField):
            words = _("是") if value else _("否")
        elif isinstance(field, forms.ChoiceField):
            words = str(dict(field.choices).get(value or "", value or "—"))  # type: ignore[arg-type]
        else:
            words = str(value) if value not in (None, "") else "—"
        facts.append((str(field.label), words))
    return facts


@dataclass
class Entry:
    index: int
    item: dict[str, Any]
    label: str
    anchor: str
    source: str
    facts: list[tuple[str, str]]
    form: forms.Form | None
    open: bool = False
    error: str = ""


def _entry(plan_import: PlanImport, index: int, anchors: dict[int, str], *, form: Any = None, error: str = "") -> Entry:
    item = plan_import.items[index]
    editable = plan_import.status == PlanImport.Status.REVIEW
    return Entry(
        index=index,
        item=item,
        label=item_label(item),
        anchor=anchors.get(index, ""),
        source=plan_import.text[item.get("start", 0) : item.get("end", 0)].strip(),
        facts=item_facts(item),
        form=(form or item_form(item, index)) if editable else None,
        open=form is not None and bool(form.errors),
        error=error,
    )


def _review_page(
    request: HttpRequest, plan_import: PlanImport, *, index: int | None = None, form: Any = None, error: str = ""
) -> HttpResponse:
    marked, anchors = source_marks(plan_import.text, plan_import.items)
    sections = []
    for kind in KINDS:
        entries = [
            _entry(plan_import, n, anchors, form=form if n == index else None, error=error if n == index else "")
            for n, item in enumerate(plan_import.items)
            if item.get("kind") == kind
        ]
        if entries:
            sections.append({"kind": kind, "label": KIND_LABELS[kind], "entries": entries})
    groups: list[GroupChange] = []
    members: list[MemberChange] = []
    if plan_import.groups_applied_at is None and plan_import.status != PlanImport.Status.DISCARDED:
        groups, members = groups_plan(plan_import)
    context = {
        "row": plan_import,
        "found": services.counts_words(services.import_counts(plan_import)),
        "marked": marked,
        "sections": sections,
        "editable": plan_import.status == PlanImport.Status.REVIEW,
        "can_draft": services.can_draft(plan_import),
        "groups": groups,
        "members": members,
        "unmapped": [
            {**section, "text": plan_import.text[section["start"] : section["end"]].strip()}
            for section in plan_import.unmapped
        ],
        "draft": EmergencyPlan.objects.filter(
            organization_id=plan_import.organization_id, status=EmergencyPlan.Status.DRAFT
        ).first(),
        "_invalid": bool(error) or (form is not None and bool(form.errors)),
    }
    return unit_render(request, "plan_import/review.html", SECTION, context)


@unit_page("manage_plans")
@require_GET
def import_review(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _review_page(request, _import(organization_id, pk))


@unit_page("manage_plans")
@require_POST
def import_item(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """Save one item's values (op=save, its form) or keep or drop it (op=keep / op=drop)."""
    plan_import = _import(organization_id, pk)
    raw = request.POST.get("index", "")
    if not raw.isdigit() or int(raw) >= len(plan_import.items):
        raise Http404(_("识别结果不存在。"))
    index = int(raw)
    op = request.POST.get("op", "save")
    form: Any = None
    error = ""
    saved = None
    if op in ("keep", "drop"):
        holder = forms.Form(data={})
        holder.is_valid()
        saved = form_service_call(
            holder,
            lambda: services.plan_import_item_update(
                actor=request.user, import_id=plan_import.pk, index=index, keep=op == "keep"
            ),
        )
        error = " ".join(str(message) for message in holder.non_field_errors())
    else:
        form = item_form(plan_import.items[index], index, data=request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            saved = form_service_call(
                form,
                lambda: services.plan_import_item_update(
                    actor=request.user, import_id=plan_import.pk, index=index, values=values
                ),
            )
        if saved is not None:
            form = None
    current = saved or plan_import
    if request.htmx:  # type: ignore[attr-defined]
        _marked, anchors = source_marks(current.text, current.items)
        entry = _entry(current, index, anchors, form=form, error=error)
        context = {"row": current, "entry": entry, "editable": current.status == PlanImport.Status.REVIEW}
        return render(request, "plan_import/partials/item.html", context, status=200 if saved is not None else 400)
    if saved is not None:
        messages.success(request, _("已保存“%(name)s”。") % {"name": item_label(saved.items[index])})
        return redirect(_review_url(saved, f"item-{index}"))
    return _review_page(request, plan_import, index=index, form=form, error=error)


@unit_page("manage_plans")
@require_POST
def import_draft(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan_import = _import(organization_id, pk)
    draft = message_service_call(
        request, lambda: services.plan_import_draft(actor=request.user, import_id=plan_import.pk)
    )
    if draft is None:
        return redirect(_review_url(plan_import))
    messages.success(
        request,
        _("已生成预案草稿第 %(version)s 版。请与现行版本逐项比较，核对无误后启用；也可以先打开草稿继续修改。")
        % {"version": draft.version},
    )
    return redirect(reverse("unit_plans:compare", args=[draft.pk]))


@unit_page("manage_plans")
@require_POST
def import_discard(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    plan_import = _import(organization_id, pk)
    discarded = message_service_call(
        request, lambda: services.plan_import_discard(actor=request.user, import_id=plan_import.pk)
    )
    if discarded is None:
        return redirect(_review_url(plan_import))
    messages.success(request, _("已放弃本次导入，预案和工作组均未改变。"))
    return redirect("plan_import:start")
