"""The unit's working groups when a draft made from an import is activated: groups are unit
configuration, not plan versions, so the import's kept groups and positions are applied then, once,
in the activation's transaction (the hook PlanImportConfig.ready registers)."""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import EmergencyPlan
from organizations.audit import audit_record
from organizations.models import GroupMember, Membership, ResponseGroup
from plan_import.findings import GROUP, POSITION
from plan_import.items import kept_items
from plan_import.models import PlanImport


@dataclass(frozen=True)
class GroupChange:
    name: str  # as the plan names it
    kind: str
    duties: str
    group: ResponseGroup | None  # the unit's group it updates; None when it is created
    action: str  # "create", "update" (its duties), "keep" (nothing to change), "clash" (the name is taken)


@dataclass(frozen=True)
class MemberChange:
    group_name: str  # the ResponseGroup's name once the groups are applied
    user: Any
    position: str
    title: str


def _group_for(name: str, names: list[str]) -> str | None:
    """The group a position names: the same name, else the one group whose name contains it (领导小组
    for 网络舆情应急处置工作领导小组) or is contained in it."""
    if name in names:
        return name
    near = [other for other in names if name in other or other in name]
    return near[0] if len(near) == 1 else None


def groups_plan(plan_import: PlanImport) -> tuple[list[GroupChange], list[MemberChange]]:
    """What activating the import's draft will do to the unit's working groups: each kept group
    matched to the unit's group of the same kind (its duties replaced when the plan states some, its
    name kept) or created; each kept position whose holder names a member of the unit (by their
    name, when no other member has the same name) adds that member to the group, unless already in it."""
    groups = list(ResponseGroup.objects.filter(organization_id=plan_import.organization_id))
    taken_names = {group.name for group in groups}
    claimed: set[int] = set()
    changes: list[GroupChange] = []
    for item in kept_items(plan_import, GROUP):
        values = item["values"]
        same_kind = [group for group in groups if group.kind == values["role"] and group.pk not in claimed]
        match = next((group for group in same_kind if group.name == values["name"]), None) or (
            same_kind[0] if same_kind else None
        )
        if match is not None:
            claimed.add(match.pk)
            action = "update" if values["duties"] and values["duties"] != match.duties else "keep"
            changes.append(GroupChange(values["name"], values["role"], values["duties"], match, action))
        elif values["name"] in taken_names:
            changes.append(GroupChange(values["name"], values["role"], values["duties"], None, "clash"))
        else:
            taken_names.add(values["name"])
            changes.append(GroupChange(values["name"], values["role"], values["duties"], None, "create"))
    # The name of the unit's group each group of the plan ends up as.
    applied = {
        change.name: change.group.name if change.group is not None else change.name
        for change in changes
        if change.action != "clash"
    }
    existing_names = [group.name for group in groups]
    people = [
        membership.user
        for membership in Membership.objects.filter(organization_id=plan_import.organization_id).select_related("user")
        if len((membership.user.first_name or "").strip()) >= 2
    ]
    name_counts: dict[str, int] = {}
    for user in people:
        name_counts[user.first_name.strip()] = name_counts.get(user.first_name.strip(), 0) + 1
    unique_people = [user for user in people if name_counts[user.first_name.strip()] == 1]
    already = {
        (group_name, user_id): position
        for group_name, user_id, position in GroupMember.objects.filter(
            group__organization_id=plan_import.organization_id
        ).values_list("group__name", "user_id", "position")
    }
    members: list[MemberChange] = []
    for item in kept_items(plan_import, POSITION):
        values = item["values"]
        plan_name = _group_for(values["group"], list(applied))
        target = applied[plan_name] if plan_name is not None else _group_for(values["group"], existing_names)
        if target is None or not values["holder"]:
            continue
        for user in unique_people:
            if user.first_name.strip() in values["holder"] and already.get((target, user.pk)) != values["position"]:
                already[(target, user.pk)] = values["position"]  # a member already in the group takes the plan's post
                members.append(MemberChange(target, user, values["position"], values["title"]))
    return changes, members


def plan_import_groups_apply(plan: EmergencyPlan, actor: Any) -> None:
    """The activation hook (registered in PlanImportConfig.ready): when the plan just activated is
    the draft of an import, bring the unit's working groups in line with the import's kept groups
    and positions (groups_plan), once. Runs inside the activation's transaction."""
    for plan_import in PlanImport.objects.select_for_update().filter(plan=plan, groups_applied_at__isnull=True):
        _groups_apply(plan_import, actor)


def _groups_apply(plan_import: PlanImport, actor: Any) -> None:
    changes, members = groups_plan(plan_import)
    created, updated = [], []
    for change in changes:
        if change.action == "create":
            ResponseGroup.objects.create(
                organization_id=plan_import.organization_id, name=change.name, kind=change.kind, duties=change.duties
            )
            created.append(change.name)
        elif change.action == "update" and change.group is not None:
            change.group.duties = change.duties
            change.group.save(update_fields=["duties"])
            updated.append(change.group.name)
    groups = {group.name: group for group in ResponseGroup.objects.filter(organization_id=plan_import.organization_id)}
    joined = []
    for member in members:
        group = groups.get(member.group_name)
        if group is None:
            continue
        row, made = GroupMember.objects.get_or_create(
            group=group, user=member.user, defaults={"position": member.position}
        )
        if not made and row.position != member.position:
            row.position = member.position
            row.save(update_fields=["position"])
            made = True
        if made:
            joined.append(
                {
                    "group": group.name,
                    "user": member.user.get_full_name() or member.user.get_username(),
                    "title": member.title,
                }
            )
    plan_import.groups_applied_at = timezone.now()
    plan_import.save(update_fields=["groups_applied_at"])
    if actor is not None and (created or updated or joined):
        parts = []
        if created:
            parts.append(_("新建工作组 %(names)s") % {"names": "、".join(created)})
        if updated:
            parts.append(_("更新 %(names)s 的工作职责") % {"names": "、".join(updated)})
        if joined:
            parts.append(
                _("将 %(people)s 加入工作组或调整其职务")
                % {"people": "、".join(f"{row['user']}（{row['group']}{row['title']}）" for row in joined)}
            )
        audit_record(
            organization=plan_import.organization_id,
            actor=actor,
            action="group.import",
            target=plan_import,
            summary=_("按启用的预案第 %(version)s 版（导入自《%(source)s》）：%(what)s")
            % {
                "version": plan_import.plan.version if plan_import.plan else "",
                "source": plan_import.source_name,
                "what": "；".join(parts),
            },
            after={"created": created, "updated": updated, "members": joined},
        )


def activation_notes(plan: EmergencyPlan) -> list[str]:
    """What activating this draft will do to the unit's working groups (shown on the compare page)."""
    plan_import = PlanImport.objects.filter(plan=plan, groups_applied_at__isnull=True).first()
    if plan_import is None:
        return []
    changes, members = groups_plan(plan_import)
    created = [change.name for change in changes if change.action == "create"]
    updated = [change.group.name for change in changes if change.action == "update" and change.group is not None]
    notes = []
    if created:
        notes.append(_("启用时将按导入的预案新建工作组：%(names)s。") % {"names": "、".join(created)})
    if updated:
        notes.append(_("启用时将按导入的预案更新工作职责：%(names)s。") % {"names": "、".join(updated)})
    if members:
        people = "、".join(
            f"{member.user.get_full_name() or member.user.get_username()}（{member.group_name}{member.title}）"
            for member in members
        )
        notes.append(_("启用时将按导入的预案安排人员职务：%(people)s。") % {"people": people})
    return notes
