"""单位设置: the unit administrators' pages for people and working groups, and the configuration
audit trail (read by administrators and leaders). Other apps add their sections (plans, tokens,
webhooks, channels) through organizations.sections; every page here asks organizations.policies."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opinion_ops.errors import NotPermitted
from opinion_ops.pages import form_service_call, message_service_call, refused_page
from organizations import services
from organizations.audit import CATEGORIES
from organizations.forms import (
    AuditFilterForm,
    GroupForm,
    GroupMemberForm,
    MemberCreateForm,
    MemberEditForm,
    PasswordSetForm,
)
from organizations.models import Membership, ResponseGroup
from organizations.policies import UNIT_RULES, unit_allows
from organizations.roles import user_organization_id
from organizations.sections import member_extensions, sections_for
from organizations.selectors import audit_entries, unit_groups, unit_members

AUDIT_PAGE_SIZE = 50

View = Callable[..., HttpResponse]


def unit_page(action: str) -> Callable[[View], View]:
    """A 单位设置 page: signed in, allowed by the rule in the user's own unit; the view gets the unit id."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organization_id = user_organization_id(request.user)
            if not unit_allows(action, request.user, organization_id):
                return refused_page(request, UNIT_RULES[action].forbidden)
            try:
                return view(request, organization_id, *args, **kwargs)
            except NotPermitted as refusal:  # the service's own rule refused (e.g. the flag went meanwhile)
                return refused_page(request, refusal.message)

        return wrapped

    return decorate


def unit_render(request: HttpRequest, template: str, section: str, context: dict[str, Any]) -> HttpResponse:
    """Render a section page inside the 单位设置 frame (the tabs this person may open)."""
    organization_id = user_organization_id(request.user)
    context.update(unit_sections=sections_for(request.user, organization_id), unit_section=section)
    return render(request, template, context, status=400 if context.pop("_invalid", False) else 200)


@login_required
@require_GET
def unit_index(request: HttpRequest) -> HttpResponse:
    sections = sections_for(request.user, user_organization_id(request.user))
    if not sections:
        return refused_page(request, _("单位设置只对本单位管理员（审计记录也对领导小组成员）开放。"))
    return redirect(sections[0].url_name)


# --- people


def _people_rows(organization_id: int) -> list[dict[str, Any]]:
    members = list(unit_members(organization_id))
    users = [member.user for member in members]
    loaded = [(extension, extension.load(users)) for extension in member_extensions()]
    return [
        {
            "member": member,
            "groups": list(member.user.group_memberships.all()),
            "extras": [(extension.template, values.get(member.user_id)) for extension, values in loaded],
        }
        for member in members
    ]


@unit_page("manage_members")
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = MemberCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = form_service_call(form, lambda: services.member_create(actor=request.user, **data))
        if member is not None:
            messages.success(request, _("已新增人员 %(name)s。") % {"name": member.user.get_full_name()})
            return redirect("unit:member", pk=member.pk)
    return unit_render(
        request,
        "unit/members.html",
        "members",
        {
            "rows": _people_rows(organization_id),
            "extension_headings": [extension.heading for extension in member_extensions()],
            "form": form,
            "_invalid": form.is_bound and bool(form.errors),
        },
    )


def _member(organization_id: int, pk: int) -> Membership:
    member = Membership.objects.select_related("user").filter(pk=pk, organization_id=organization_id).first()
    if member is None:
        raise Http404(_("人员不存在。"))
    return member


@unit_page("manage_members")
@require_http_methods(["GET", "POST"])
def member(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    membership = _member(organization_id, pk)
    user = membership.user
    initial = {
        "full_name": user.get_full_name(),
        "email": user.email,
        "phone": membership.phone,
        "is_unit_admin": membership.is_unit_admin,
        "is_active": user.is_active,
    }
    form = MemberEditForm(request.POST or None, initial=initial, prefix="edit")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if form_service_call(form, lambda: services.member_update(actor=request.user, membership_id=pk, **data)):
            messages.success(request, _("已保存。"))
            return redirect("unit:member", pk=pk)
    rows = [row for row in _people_rows(organization_id) if row["member"].pk == membership.pk]
    return unit_render(
        request,
        "unit/member.html",
        "members",
        {
            "membership": membership,
            "row": rows[0],
            "form": form,
            "password_form": PasswordSetForm(prefix="password"),
            "_invalid": form.is_bound and bool(form.errors),
        },
    )


@unit_page("manage_members")
@require_POST
def member_password(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    membership = _member(organization_id, pk)
    form = PasswordSetForm(request.POST, prefix="password")
    if form.is_valid():
        password = form.cleaned_data["password"]
        done = form_service_call(
            form, lambda: services.member_set_password(actor=request.user, membership_id=pk, password=password)
        )
        if done:
            messages.success(request, _("已为 %(name)s 设置新密码。") % {"name": membership.user.get_full_name()})
            return redirect("unit:member", pk=pk)
    rows = [row for row in _people_rows(organization_id) if row["member"].pk == membership.pk]
    edit = MemberEditForm(
        initial={
            "full_name": membership.user.get_full_name(),
            "email": membership.user.email,
            "phone": membership.phone,
            "is_unit_admin": membership.is_unit_admin,
            "is_active": membership.user.is_active,
        },
        prefix="edit",
    )
    return unit_render(
        request,
        "unit/member.html",
        "members",
        {"membership": membership, "row": rows[0], "form": edit, "password_form": form, "_invalid": True},
    )


# --- working groups


def _people_choices(organization_id: int) -> list[tuple[int, str]]:
    return [
        (m.user_id, f"{m.user.get_full_name() or m.user.get_username()}（{m.user.get_username()}）")
        for m in Membership.objects.filter(organization_id=organization_id, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ]


@unit_page("manage_groups")
@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = form_service_call(form, lambda: services.group_create(actor=request.user, **form.cleaned_data))
        if group is not None:
            messages.success(request, _("已新增工作组 %(name)s。") % {"name": group.name})
            return redirect("unit:group", pk=group.pk)
    return unit_render(
        request,
        "unit/groups.html",
        "groups",
        {"groups": unit_groups(organization_id), "form": form, "_invalid": form.is_bound and bool(form.errors)},
    )


def _group(organization_id: int, pk: int) -> ResponseGroup:
    group = unit_groups(organization_id).filter(pk=pk).first()
    if group is None:
        raise Http404(_("工作组不存在。"))
    return group


def _group_page(request: HttpRequest, organization_id: int, group: ResponseGroup, **forms: Any) -> HttpResponse:
    invalid = any(form.is_bound and form.errors for form in forms.values())
    context: dict[str, Any] = {
        "group": group,
        "form": forms.get("form")
        or GroupForm(initial={"name": group.name, "kind": group.kind, "duties": group.duties}, prefix="group"),
        "member_form": forms.get("member_form")
        or GroupMemberForm(people=_people_choices(organization_id), prefix="member"),
        "positions": GroupMemberForm.base_fields["position"].choices,  # type: ignore[attr-defined]
        "_invalid": invalid,
    }
    return unit_render(request, "unit/group.html", "groups", context)


@unit_page("manage_groups")
@require_http_methods(["GET", "POST"])
def group(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    current = _group(organization_id, pk)
    if request.method != "POST":
        return _group_page(request, organization_id, current)
    form = GroupForm(request.POST, prefix="group")
    if form.is_valid():
        saved = form_service_call(
            form, lambda: services.group_update(actor=request.user, group_id=pk, **form.cleaned_data)
        )
        if saved is not None:
            messages.success(request, _("已保存。"))
            return redirect("unit:group", pk=pk)
    return _group_page(request, organization_id, current, form=form)


@unit_page("manage_groups")
@require_POST
def group_member_set(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    current = _group(organization_id, pk)
    form = GroupMemberForm(request.POST, people=_people_choices(organization_id), prefix="member")
    if form.is_valid():
        data = form.cleaned_data
        saved = form_service_call(
            form,
            lambda: services.group_member_set(
                actor=request.user, group_id=pk, user_id=data["user"], position=data["position"], duties=data["duties"]
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存。"))
            return redirect("unit:group", pk=pk)
    return _group_page(request, organization_id, current, member_form=form)


@unit_page("manage_groups")
@require_POST
def group_member_remove(request: HttpRequest, organization_id: int, pk: int, user_id: int) -> HttpResponse:
    current = _group(organization_id, pk)

    def remove() -> bool:
        services.group_member_remove(actor=request.user, group_id=pk, user_id=user_id)
        return True

    if message_service_call(request, remove):
        messages.success(request, _("已移出。"))
    return redirect("unit:group", pk=current.pk)


@unit_page("manage_groups")
@require_POST
def group_delete(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    current = _group(organization_id, pk)

    def delete() -> bool:
        services.group_delete(actor=request.user, group_id=pk)
        return True

    if not message_service_call(request, delete):
        return redirect("unit:group", pk=current.pk)
    messages.success(request, _("已删除工作组 %(name)s。") % {"name": current.name})
    return redirect("unit:groups")


# --- the configuration audit trail


@unit_page("read_audit")
@require_GET
def audit(request: HttpRequest, organization_id: int) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, actions=[(key, str(label)) for key, label in CATEGORIES.items()])
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {"category": data["action"], "actor": data["actor"], "since": data["since"], "until": data["until"]}
    entries = audit_entries(organization_id=organization_id, **filters)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return unit_render(
        request,
        "unit/audit.html",
        "audit",
        {"form": form, "page": page, "query": query.urlencode(), "categories": CATEGORIES},
    )
