"""Setting up a unit: its standard working groups (the plan's 组织机构), and the unit
administrators' changes to its people and groups (单位设置)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from opinion_ops.errors import DomainError
from organizations.audit import audit_record, changed
from organizations.models import GroupMember, Membership, Organization, ResponseGroup
from organizations.policies import unit_require
from organizations.roles import user_organization_id

DEFAULT_GROUPS = [
    (
        ResponseGroup.Kind.LEADERSHIP,
        "网络舆情应急处置工作领导小组",
        "统一领导和指挥网络舆情应急处置工作；决定预警级别和启动预案；审定回应口径和报告；及时向上级主管部门报告。",
    ),
    (ResponseGroup.Kind.OFFICE, "领导小组办公室", "负责日常工作、信息汇总、报告起草和领导小组交办事项。"),
    (
        ResponseGroup.Kind.MONITORING,
        "舆情监测组",
        "对重点网站、论坛、微博、微信、客户端等进行日常监测，及时发现和报告舆情。",
    ),
    (ResponseGroup.Kind.ANALYSIS, "舆情研判组", "分析舆情的性质、影响范围和发展趋势，提出预警级别和处置建议。"),
    (
        ResponseGroup.Kind.HANDLING,
        "舆情处置组",
        "根据领导小组部署采取处置措施：答复、澄清、请求平台删除违法信息、协调相关部门。",
    ),
    (ResponseGroup.Kind.PUBLICITY, "宣传组", "起草并经审定后发布权威信息，回应社会关切，做好媒体沟通。"),
    (ResponseGroup.Kind.LEGAL, "法律援助组", "提供法律咨询和援助，依法移交公安、纪检监察等部门。"),
    (ResponseGroup.Kind.SUPPORT, "综合保障组", "提供人员、资金、物资和技术等保障。"),
]


def response_groups_create_default(*, organization: Organization) -> list[ResponseGroup]:
    """Create the plan's standard working groups for a unit (skips groups it already has)."""
    groups = []
    for kind, name, duties in DEFAULT_GROUPS:
        group, _created = ResponseGroup.objects.get_or_create(
            organization=organization, name=name, defaults={"kind": kind, "duties": duties}
        )
        groups.append(group)
    return groups


# --- 单位设置: people and working groups. Every write checks organizations.policies for the actor's
# own unit, finds rows only within that unit (another unit's row reads as "not found") and writes
# its audit entry in the same transaction.

MEMBER_SNAPSHOT = ("username", "full_name", "email", "phone", "is_unit_admin", "is_active")
MEMBER_CHANGES = frozenset({"full_name", "email", "phone", "is_unit_admin", "is_active"})
GROUP_CHANGES = frozenset({"name", "kind", "duties"})


def _member_snapshot(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "email": user.email,
        "phone": membership.phone,
        "is_unit_admin": membership.is_unit_admin,
        "is_active": user.is_active,
    }


def _not_found(what: str) -> DomainError:
    return DomainError(_("%(what)s不存在。") % {"what": what}, code="not_found")


def _own_unit(actor: Any, action: str) -> int:
    organization_id = user_organization_id(actor)
    unit_require(action, actor, organization_id)
    assert organization_id is not None
    return organization_id


def _member_locked(actor: Any, membership_id: int) -> Membership:
    organization_id = _own_unit(actor, "manage_members")
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, organization_id=organization_id)
        .first()
    )
    if membership is None:
        raise _not_found(_("人员"))
    return membership


def _clean_text(value: Any, field: str, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise DomainError(_("%(label)s不超过 %(n)s 个字符。") % {"label": label, "n": max_length}, field=field)
    return text


def _clean_email(value: Any) -> str:
    email = str(value or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError(_("“%(value)s”不是有效的电子邮件地址。") % {"value": email}, field="email") from exc
    return email


def _check_password(password: str, user: Any) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from exc


def _keeps_an_admin(membership: Membership, *, admin: bool, active: bool) -> None:
    if admin and active:
        return
    if not (membership.is_unit_admin and membership.user.is_active):
        return
    others = Membership.objects.filter(
        organization_id=membership.organization_id, is_unit_admin=True, user__is_active=True
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise DomainError(_("本单位至少须保留一名在用的管理员。"), field="is_unit_admin")


@transaction.atomic
def member_create(
    *,
    actor: Any,
    username: str,
    full_name: str,
    password: str,
    email: str = "",
    phone: str = "",
    is_unit_admin: bool = False,
) -> Membership:
    """Open an account in the actor's unit (the only unit it can ever belong to) with an initial
    password the administrator hands over; audited without the password."""
    organization_id = _own_unit(actor, "manage_members")
    user_model = get_user_model()
    username = _clean_text(username, "username", str(_("用户名")), 150, required=True)
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        raise DomainError(_("用户名只能包含字母、数字和 @ . + - _。"), field="username") from exc
    if user_model.objects.filter(username__iexact=username).exists():
        raise DomainError(_("该用户名已被使用，请换一个。"), field="username")
    full_name = _clean_text(full_name, "full_name", str(_("姓名")), 150, required=True)
    email = _clean_email(email)
    phone = _clean_text(phone, "phone", str(_("联系电话")), 32)
    user = user_model(username=username, first_name=full_name, email=email)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    membership = Membership.objects.create(
        user=user, organization_id=organization_id, phone=phone, is_unit_admin=bool(is_unit_admin)
    )
    audit_record(
        organization=organization_id,
        actor=actor,
        action="member.create",
        target=membership,
        summary=_("新增人员：%(name)s（%(username)s）") % {"name": full_name, "username": username},
        after=_member_snapshot(membership),
    )
    return membership


@transaction.atomic
def member_update(*, actor: Any, membership_id: int, **changes: Any) -> Membership:
    """Change a member's name, contact details, administrator flag or whether the account may sign
    in (accounts are deactivated, never deleted: the record names them). The unit keeps at least
    one active administrator, and nobody deactivates themselves."""
    unknown = set(changes) - MEMBER_CHANGES
    if unknown:
        raise DomainError(_("不能修改字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, field=min(unknown))
    membership = _member_locked(actor, membership_id)
    user = membership.user
    before = _member_snapshot(membership)
    if "full_name" in changes:
        user.first_name, user.last_name = _clean_text(changes["full_name"], "full_name", str(_("姓名")), 150, True), ""
    if "email" in changes:
        user.email = _clean_email(changes["email"])
    if "phone" in changes:
        membership.phone = _clean_text(changes["phone"], "phone", str(_("联系电话")), 32)
    admin = bool(changes.get("is_unit_admin", membership.is_unit_admin))
    active = bool(changes.get("is_active", user.is_active))
    if not active and user.pk == actor.pk:
        raise DomainError(_("不能停用自己的账号。"), field="is_active")
    _keeps_an_admin(membership, admin=admin, active=active)
    membership.is_unit_admin, user.is_active = admin, active
    after = _member_snapshot(membership)
    if after == before:
        return membership
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    membership.save(update_fields=["phone", "is_unit_admin"])
    audit_record(
        organization=membership.organization_id,
        actor=actor,
        action="member.update",
        target=membership,
        summary=_("修改人员：%(name)s（%(fields)s）")
        % {"name": user.get_full_name() or user.get_username(), "fields": "、".join(changed(before, after))},
        before=before,
        after=after,
    )
    return membership


@transaction.atomic
def member_set_password(*, actor: Any, membership_id: int, password: str) -> Membership:
    """Set a new password for a member who lost theirs; audited without the password."""
    membership = _member_locked(actor, membership_id)
    user = membership.user
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        organization=membership.organization_id,
        actor=actor,
        action="member.password",
        target=membership,
        summary=_("重设密码：%(name)s") % {"name": user.get_full_name() or user.get_username()},
    )
    return membership


def _group_snapshot(group: ResponseGroup) -> dict[str, Any]:
    return {"name": group.name, "kind": group.kind, "duties": group.duties}


def _group_locked(actor: Any, group_id: int) -> ResponseGroup:
    organization_id = _own_unit(actor, "manage_groups")
    group = ResponseGroup.objects.select_for_update().filter(pk=group_id, organization_id=organization_id).first()
    if group is None:
        raise _not_found(_("工作组"))
    return group


def _group_fields(changes: dict[str, Any], organization_id: int, group_id: int | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = _clean_text(changes["name"], "name", str(_("名称")), 100, required=True)
        clash = ResponseGroup.objects.filter(organization_id=organization_id, name=fields["name"])
        if group_id is not None:
            clash = clash.exclude(pk=group_id)
        if clash.exists():
            raise DomainError(_("本单位已有同名工作组。"), field="name")
    if "kind" in changes:
        if changes["kind"] not in ResponseGroup.Kind.values:
            raise DomainError(_("请选择工作组类别。"), field="kind")
        fields["kind"] = changes["kind"]
    if "duties" in changes:
        fields["duties"] = _clean_text(changes["duties"], "duties", str(_("工作职责")), 2000)
    return fields


@transaction.atomic
def group_create(*, actor: Any, name: str, kind: str, duties: str = "") -> ResponseGroup:
    """Add a working group to the actor's unit; its kind decides the role its members hold."""
    organization_id = _own_unit(actor, "manage_groups")
    fields = _group_fields({"name": name, "kind": kind, "duties": duties}, organization_id, None)
    group = ResponseGroup.objects.create(organization_id=organization_id, **fields)
    audit_record(
        organization=organization_id,
        actor=actor,
        action="group.create",
        target=group,
        summary=_("新增工作组：%(name)s") % {"name": group.name},
        after=_group_snapshot(group),
    )
    return group


@transaction.atomic
def group_update(*, actor: Any, group_id: int, **changes: Any) -> ResponseGroup:
    unknown = set(changes) - GROUP_CHANGES
    if unknown:
        raise DomainError(_("不能修改字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, field=min(unknown))
    group = _group_locked(actor, group_id)
    before = _group_snapshot(group)
    for field, value in _group_fields(changes, group.organization_id, group.pk).items():
        setattr(group, field, value)
    after = _group_snapshot(group)
    if after == before:
        return group
    group.save(update_fields=list(GROUP_CHANGES))
    audit_record(
        organization=group.organization_id,
        actor=actor,
        action="group.update",
        target=group,
        summary=_("修改工作组：%(name)s（%(fields)s）")
        % {"name": group.name, "fields": "、".join(changed(before, after))},
        before=before,
        after=after,
    )
    return group


@transaction.atomic
def group_delete(*, actor: Any, group_id: int) -> None:
    """Remove a working group that has no members and that no incident, task or clock refers to."""
    group = _group_locked(actor, group_id)
    if group.memberships.exists():
        raise DomainError(_("请先移出该工作组的全部成员。"), field="group")
    before = _group_snapshot(group)
    try:
        with transaction.atomic():
            group.delete()
    except ProtectedError as exc:
        raise DomainError(_("已有舆情、任务或时限引用该工作组，不能删除；可改名后继续使用。"), field="group") from exc
    audit_record(
        organization=group.organization_id,
        actor=actor,
        action="group.delete",
        target_type="responsegroup",
        summary=_("删除工作组：%(name)s") % {"name": before["name"]},
        before=before,
    )


@transaction.atomic
def group_member_set(*, actor: Any, group_id: int, user_id: int, position: str, duties: str = "") -> GroupMember:
    """Put a member of the unit into a working group, or change their position and duties there.
    Only people of the same unit can join: the unit is never changed by this."""
    group = _group_locked(actor, group_id)
    if position not in GroupMember.Position.values:
        raise DomainError(_("请选择职务。"), field="position")
    duties = _clean_text(duties, "duties", str(_("分工")), 200)
    if not Membership.objects.filter(user_id=user_id, organization_id=group.organization_id).exists():
        raise DomainError(_("只能把本单位的人员加入工作组。"), field="user")
    member = GroupMember.objects.select_for_update().select_related("user").filter(group=group, user_id=user_id).first()
    before = {"position": member.position, "duties": member.duties} if member else None
    if member is None:
        member = GroupMember.objects.create(group=group, user_id=user_id, position=position, duties=duties)
    elif before == {"position": position, "duties": duties}:
        return member
    else:
        member.position, member.duties = position, duties
        member.save(update_fields=["position", "duties"])
    name = member.user.get_full_name() or member.user.get_username()
    audit_record(
        organization=group.organization_id,
        actor=actor,
        action="group.member_set",
        target=group,
        summary=_("%(group)s：%(name)s 任%(position)s")
        % {"group": group.name, "name": name, "position": member.get_position_display()},
        before=before,
        after={"user": name, "position": position, "duties": duties},
    )
    return member


@transaction.atomic
def group_member_remove(*, actor: Any, group_id: int, user_id: int) -> None:
    group = _group_locked(actor, group_id)
    member = GroupMember.objects.select_related("user").filter(group=group, user_id=user_id).first()
    if member is None:
        raise _not_found(_("工作组成员"))
    name = member.user.get_full_name() or member.user.get_username()
    before = {"user": name, "position": member.position, "duties": member.duties}
    member.delete()
    audit_record(
        organization=group.organization_id,
        actor=actor,
        action="group.member_remove",
        target=group,
        summary=_("%(group)s：移出 %(name)s") % {"group": group.name, "name": name},
        before=before,
    )
