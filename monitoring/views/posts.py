"""信息检索 and 信息导入: searching the unit's posts (and linking one to an open incident), and importing
posts from a CSV or Excel file after a preview. Both are for the unit's working-group members (rule
handle_alerts); monitoring.search, monitoring.imports and monitoring.ingest do the work.

Between the preview and 「确认导入」 the uploaded file waits on disk under MEDIA_ROOT/posts-import/,
named by a random token; the session holds only the token with the file's SHA-256, name and unit.
Not the bytes themselves: sessions are read from the cache on every request (cached_db), and a
5 MiB file there would weigh on each of that person's pages until the import. MEDIA_ROOT is
already shared by every web process (evidence files live there). The confirm step trusts nothing
the browser sends but the token: a token that is not in this person's session, a file changed on
disk, or a token of another unit is refused; the file is read again (the same preview) and deleted
once imported or cancelled; files left behind (an abandoned preview) are removed after a day.
"""

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from incidents import policies
from incidents.models import OPEN_STATES, Incident, Platform
from monitoring.imports import COLUMNS, MAX_BYTES, ImportPreview, ImportRow, posts_file_read
from monitoring.ingest import MAX_BATCH, PostIn, posts_ingest, source_of_kind
from monitoring.models import KeywordScheme, Mention, Source
from monitoring.search import posts_search, search_query_parse, text_marked
from monitoring.services import mention_attach
from monitoring.views.config import monitoring_nav
from opinion_ops.pages import message_service_call
from organizations.views import unit_page

PAGE_SIZE = 50
OPEN_INCIDENTS_SHOWN = 50
EXCERPT_CHARS = 160

# --- search


class PostSearchForm(forms.Form):
    ATTACHED = {"yes": True, "no": False}

    q = forms.CharField(
        label=gettext_lazy("关键词"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("多个词用空格分开，须同时出现；“引号”内为完整短语；词前加减号（-）排除。"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("如 食堂 中毒 -演练")}),
    )
    source = forms.ModelChoiceField(label=gettext_lazy("来源"), queryset=Source.objects.none(), required=False)
    platform = forms.ChoiceField(label=gettext_lazy("平台"), required=False)
    scheme = forms.ModelChoiceField(
        label=gettext_lazy("命中方案"), queryset=KeywordScheme.objects.none(), required=False
    )
    since = forms.DateField(
        label=gettext_lazy("采集日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("采集日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    attached = forms.ChoiceField(
        label=gettext_lazy("关联舆情"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("yes", gettext_lazy("已关联舆情")), ("no", gettext_lazy("未关联"))],
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(organization_id=organization_id)  # type: ignore[attr-defined]
        self.fields["source"].empty_label = _("全部")  # type: ignore[attr-defined]
        self.fields["scheme"].queryset = KeywordScheme.objects.filter(organization_id=organization_id)  # type: ignore[attr-defined]
        self.fields["scheme"].empty_label = _("全部")  # type: ignore[attr-defined]
        self.fields["platform"].choices = [("", _("全部")), *Platform.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("截止日期不能早于起始日期。"))
        return data

    def search_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "source_id": data["source"].pk if data.get("source") else None,
            "platform": data.get("platform") or "",
            "scheme_id": data["scheme"].pk if data.get("scheme") else None,
            "since": data.get("since"),
            "until": data.get("until"),
            "attached": self.ATTACHED.get(data.get("attached") or ""),
            "before_id": data.get("before"),
        }


def _query_kept(query: QueryDict | dict[str, Any], *, before: int | None = None) -> str:
    """The search's parameters (the known ones, blank ones left out) as a query string."""
    kept = {name: query.get(name) for name in PostSearchForm.base_fields if name != "before" and query.get(name)}
    if before is not None:
        kept["before"] = str(before)
    return urlencode(kept)


def _open_incidents(request: HttpRequest, organization_id: int) -> list[Incident]:
    """The unit's open incidents this person may link a post to, the most recent first."""
    incidents = Incident.objects.filter(organization_id=organization_id, state__in=OPEN_STATES).order_by(
        "-discovered_at"
    )[:OPEN_INCIDENTS_SHOWN]
    return [incident for incident in incidents if policies.allows("add_mention", request.user, incident)]


@unit_page("handle_alerts")
@require_http_methods(["GET"])
def posts(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = PostSearchForm(request.GET or None, organization_id=organization_id)
    found: list[Mention] = []
    if not form.is_bound or form.is_valid():
        arguments = form.search_arguments() if form.is_bound else {}
        found = posts_search(organization_id=organization_id, limit=PAGE_SIZE + 1, **arguments)
    has_next = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    marks = search_query_parse(request.GET.get("q", "")).marks if form.is_bound and not form.errors else ()
    rows = [
        {
            "post": post,
            "title": text_marked(post.title, marks),
            "excerpt": text_marked(post.text, marks, width=EXCERPT_CHARS),
            "schemes": sorted({match.scheme.name for match in post.matches.all()}),
        }
        for post in found
    ]
    context = {
        "form": form,
        "rows": rows,
        "open_incidents": _open_incidents(request, organization_id) if rows else [],
        "query": _query_kept(request.GET),
        "next_query": _query_kept(request.GET, before=found[-1].pk) if has_next else "",
        "deeper": bool(request.GET.get("before")),
        "monitoring_nav": monitoring_nav(request.user, "posts"),
    }
    htmx = getattr(request, "htmx", False)
    template = "monitoring/posts/partials/results.html" if htmx else "monitoring/posts/search.html"
    response = render(request, template, context, status=400 if form.errors else 200)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


class AttachForm(forms.Form):
    incident = forms.ModelChoiceField(label=gettext_lazy("关联到舆情"), queryset=Incident.objects.none())
    back = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = Incident.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id, state__in=OPEN_STATES
        )


@unit_page("handle_alerts")
@require_POST
def post_attach(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    """Link a post found by the search to one of the unit's open incidents (mention_attach decides
    who may), then back to the same search."""
    post = get_object_or_404(Mention, pk=pk, organization_id=organization_id)
    form = AttachForm(request.POST, organization_id=organization_id)
    if form.is_valid():
        incident = form.cleaned_data["incident"]
        done = message_service_call(
            request, lambda: mention_attach(mention_id=post.pk, incident_id=incident.pk, actor=request.user)
        )
        if done is not None:
            messages.success(
                request, _("已将该信息关联到舆情「%(title)s」，并记入处置记录。") % {"title": incident.title}
            )
    else:
        messages.error(request, _("请选择一个未结束的本单位舆情事件。"))
    back = _query_kept(QueryDict(request.POST.get("back", "")))
    return redirect(reverse("monitoring:posts") + (f"?{back}" if back else ""))


# --- import


PENDING_KEY = "monitoring_posts_import"
PENDING_KEPT = 5  # previews one person may have waiting
PENDING_MAX_AGE = 24 * 3600
INVALID_ROWS_SHOWN = 200


def _pending_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "posts-import"


def _pending_sweep() -> None:
    """Remove files of previews abandoned more than a day ago."""
    folder = _pending_dir()
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        try:
            if path.is_file() and time.time() - path.stat().st_mtime > PENDING_MAX_AGE:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # a file another process is removing


def _pending_store(request: HttpRequest, organization_id: int, content: bytes, name: str) -> str:
    """Keep the file for the confirm step; the token that names it, held in this person's session."""
    _pending_sweep()
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.upload"
    with open(path, "xb") as stored:  # x: never over another file
        stored.write(content)
    path.chmod(0o600)
    pending = dict(request.session.get(PENDING_KEY, {}))
    pending[token] = {
        "name": name[:200],
        "sha256": hashlib.sha256(content).hexdigest(),
        "organization_id": organization_id,
        "at": time.time(),
    }
    for old in sorted(pending, key=lambda key: pending[key]["at"])[:-PENDING_KEPT]:
        _pending_forget(request, pending, old)
    request.session[PENDING_KEY] = pending
    return token


def _pending_forget(request: HttpRequest, pending: dict[str, Any], token: str) -> None:
    pending.pop(token, None)
    (_pending_dir() / f"{token}.upload").unlink(missing_ok=True)
    request.session[PENDING_KEY] = pending


def _pending_take(request: HttpRequest, organization_id: int, token: str) -> tuple[bytes, str] | None:
    """The file the token names, if this session stored it for this unit and it is unchanged; the
    token is used up either way."""
    pending = dict(request.session.get(PENDING_KEY, {}))
    entry = pending.get(token) if isinstance(token, str) else None
    if entry is None:
        return None
    path = _pending_dir() / f"{token}.upload"
    try:
        content = path.read_bytes() if entry["organization_id"] == organization_id else None
    except OSError:
        content = None
    _pending_forget(request, pending, token)
    if content is None or hashlib.sha256(content).hexdigest() != entry["sha256"]:
        return None
    return content, entry["name"]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("信息文件"),
        allow_empty_file=True,  # posts_file_read says 「文件是空的」 itself
        help_text=gettext_lazy(
            "CSV 或 Excel（.xlsx）文件，不超过 5 MB、5000 行。第一行为列名，须有「内容」列，"
            "可有标题、链接、平台、发布者、发布时间、编号。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.xlsm,.txt"}),
    )


def _import_render(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("form", ImportUploadForm())
    context["monitoring_nav"] = monitoring_nav(request.user, "posts_import")
    return render(request, "monitoring/posts/import.html", context, status=status)


def _too_big(size: int) -> str:
    return _("文件过大（%(size)s MB），一次最多导入 %(max)s MB，请分成几个文件导入。") % {
        "size": f"{size / 1024 / 1024:.1f}",
        "max": MAX_BYTES // 1024 // 1024,
    }


def _post_of(row: ImportRow) -> PostIn:
    values = row.values
    return PostIn(
        text=values["text"],
        title=values.get("title", ""),
        url=values.get("url", ""),
        platform=values.get("platform", ""),
        author=values.get("author", ""),
        published_at=values.get("published_at"),
        external_id=values.get("external_id", ""),
    )


def _import_confirm(request: HttpRequest, organization_id: int) -> HttpResponse:
    taken = _pending_take(request, organization_id, request.POST.get("token", ""))
    if taken is None:
        return _import_render(request, status=400, expired=_("这份文件已经导入或已失效，请重新上传文件。"))
    content, name = taken
    preview = posts_file_read(content, name)
    rows = preview.importable
    if not rows:
        return _import_render(request, status=400, preview=_preview_shown(preview), name=name)
    source = source_of_kind(organization_id, Source.Kind.IMPORT)
    created = duplicates = 0
    rejected = [(row.line, " ".join(row.messages())) for row in preview.rows if not row.ok]
    with transaction.atomic():  # the whole file or none of it
        for start in range(0, len(rows), MAX_BATCH):
            batch = rows[start : start + MAX_BATCH]
            result = posts_ingest(source_id=source.pk, posts=[_post_of(row) for row in batch], actor=request.user)
            created += len(result.created)
            duplicates += result.duplicates
            rejected += [(batch[refusal["index"]].line, refusal["message"]) for refusal in result.rejected]
    rejected.sort()
    return _import_render(
        request,
        done={
            "name": name,
            "created": created,
            "duplicates": duplicates,
            "rejected": len(rejected),
            "rejected_rows": rejected[:INVALID_ROWS_SHOWN],
        },
    )


def _preview_shown(preview: ImportPreview) -> dict[str, Any]:
    """What the preview shows: the columns recognised (as the file names them → the field), the
    missing ones, each invalid row with its line and messages, and the first valid rows."""
    labels = {column.field: column.label for column in COLUMNS}
    platforms = dict(Platform.choices)
    invalid = [row for row in preview.rows if not row.ok]
    return {
        "preview": preview,
        "columns": [(header, labels[name]) for header, name in preview.columns.items()],
        "missing": [labels[name] for name in preview.missing],
        "invalid": invalid[:INVALID_ROWS_SHOWN],
        "invalid_more": max(0, len(invalid) - INVALID_ROWS_SHOWN),
        "sample": [
            {"line": row.line, "values": row.values, "platform": platforms.get(row.values.get("platform") or "", "")}
            for row in preview.rows
            if row.ok
        ][:5],
    }


@unit_page("handle_alerts")
@require_http_methods(["GET", "POST"])
def posts_import(request: HttpRequest, organization_id: int) -> HttpResponse:
    """GET: the upload form. POST with a file: the preview (nothing saved). POST action=confirm with
    the preview's token: the valid rows go in through posts_ingest; action=cancel drops the file."""
    action = request.POST.get("action", "preview")
    if request.method == "GET":
        return _import_render(request)
    if action == "confirm":
        return _import_confirm(request, organization_id)
    if action == "cancel":
        _pending_take(request, organization_id, request.POST.get("token", ""))
        messages.info(request, _("已取消导入。"))
        return redirect("monitoring:posts_import")
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_render(request, status=400, form=form)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_BYTES:
        form.add_error("file", _too_big(upload.size))
        return _import_render(request, status=400, form=form)
    content = upload.read(MAX_BYTES + 1)
    preview = posts_file_read(content, upload.name or "")
    shown = _preview_shown(preview)
    if preview.error:
        form.add_error("file", preview.error)
        return _import_render(request, status=400, form=form, preview=shown, name=upload.name)
    token = _pending_store(request, organization_id, content, upload.name or "") if preview.importable else ""
    return _import_render(request, form=ImportUploadForm(), preview=shown, name=upload.name, token=token)
