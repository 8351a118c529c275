"""Load the demo unit: a unit under a superior unit, the default plan, its groups and one user per role.

Safe to run again: what exists is kept; demo passwords are reset and printed each time. With two-factor
sign-in required (TWO_FACTOR_REQUIRED, the default), the demo leaders and the administrator bind an
authenticator app at their first sign-in; --reset-two-factor unbinds them again.
"""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.selectors import second_factor_needed, second_factor_set_up
from accounts.services import second_factor_reset
from incidents.models import EmergencyPlan
from incidents.services.plans import plan_create_default
from organizations.models import GroupMember, Membership, Organization, ResponseGroup
from organizations.services import response_groups_create_default

DEMO_USERS = [
    # username, full name, role label, group kind, position
    ("monitor", "张监测", "舆情监测组 · 监测员", ResponseGroup.Kind.MONITORING, GroupMember.Position.MEMBER),
    ("analyst", "李研判", "舆情研判组 · 分析员", ResponseGroup.Kind.ANALYSIS, GroupMember.Position.MEMBER),
    ("handler", "王处置", "舆情处置组 · 处置员", ResponseGroup.Kind.HANDLING, GroupMember.Position.MEMBER),
    ("spokesperson", "赵发布", "宣传组 · 新闻发言人", ResponseGroup.Kind.PUBLICITY, GroupMember.Position.HEAD),
    ("legal", "孙法务", "法律援助组 · 法律顾问", ResponseGroup.Kind.LEGAL, GroupMember.Position.MEMBER),
    ("leader", "周组长", "领导小组 · 组长", ResponseGroup.Kind.LEADERSHIP, GroupMember.Position.HEAD),
    ("office", "吴办公室", "领导小组办公室 · 值班员", ResponseGroup.Kind.OFFICE, GroupMember.Position.MEMBER),
]


class Command(BaseCommand):
    help = "Load the demo unit with the default plan and one user per role, and print their logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", help="Use this password for every demo user instead of random ones.")
        parser.add_argument(
            "--reset-two-factor",
            action="store_true",
            help="Unbind the demo users' authenticators (and recovery codes): they bind one again at sign-in.",
        )

    @transaction.atomic
    def handle(self, *args: Any, password: str | None = None, reset_two_factor: bool = False, **options: Any) -> None:
        user_model = get_user_model()
        superior, _ = Organization.objects.get_or_create(code="demo-city", defaults={"name": "示范市教育局"})
        unit, _ = Organization.objects.get_or_create(
            code="demo-district", defaults={"name": "示范区教育局", "parent": superior}
        )
        for organization in (superior, unit):
            groups = {g.kind: g for g in response_groups_create_default(organization=organization)}
            if not EmergencyPlan.objects.filter(organization=organization, status=EmergencyPlan.Status.ACTIVE).exists():
                plan_create_default(organization=organization)
        unit_groups = {g.kind: g for g in ResponseGroup.objects.filter(organization=unit)}
        superior_groups = {g.kind: g for g in ResponseGroup.objects.filter(organization=superior)}
        del groups

        logins = []
        rows = [(*row, unit, unit_groups) for row in DEMO_USERS]
        rows.append(
            (
                "superior",
                "郑处长",
                "上级主管部门 · 领导小组",
                ResponseGroup.Kind.LEADERSHIP,
                GroupMember.Position.HEAD,
                superior,
                superior_groups,
            )
        )
        for username, full_name, label, kind, position, organization, groups_by_kind in rows:
            user, _ = user_model.objects.get_or_create(username=username)
            user.first_name = full_name
            secret = password or secrets.token_urlsafe(9)
            user.set_password(secret)
            user.save()
            Membership.objects.update_or_create(user=user, defaults={"organization": organization})
            GroupMember.objects.get_or_create(group=groups_by_kind[kind], user=user, defaults={"position": position})
            logins.append((label, username, secret))

        admin, _ = user_model.objects.get_or_create(username="admin")
        admin.first_name = "系统管理员"
        admin.is_staff = admin.is_superuser = True
        admin_secret = password or secrets.token_urlsafe(9)
        admin.set_password(admin_secret)
        admin.save()
        Membership.objects.update_or_create(user=admin, defaults={"organization": unit, "is_unit_admin": True})
        logins.append(("系统管理员（后台 /admin/）", "admin", admin_secret))

        demo_users = list(user_model.objects.filter(username__in=[username for _, username, _ in logins]))
        if reset_two_factor:
            for user in demo_users:
                second_factor_reset(actor=None, user=user)

        self.stdout.write(self.style.SUCCESS(f"演示单位：{unit.name}（上级主管部门：{superior.name}）"))
        self.stdout.write("演示账号 / Demo logins — http://127.0.0.1:8000/")
        for label, username, secret in logins:
            self.stdout.write(f"  {label:<24} 用户名 {username:<14} 密码 {secret}")
        self._two_factor_note(demo_users)

    def _two_factor_note(self, users: list[Any]) -> None:
        if not settings.TWO_FACTOR_REQUIRED:
            self.stdout.write("两步验证登录：未强制（TWO_FACTOR_REQUIRED=false），各账号可在“账号安全”页自行启用。")
            return
        needed = [user for user in users if second_factor_needed(user)]
        waiting = sorted(user.username for user in needed if not second_factor_set_up(user))
        bound = sorted(user.username for user in needed if second_factor_set_up(user))
        if waiting:
            self.stdout.write(
                self.style.WARNING(
                    f"两步验证登录：{'、'.join(waiting)} 首次登录时须用手机身份验证器（Microsoft Authenticator、"
                    "Google 身份验证器、FreeOTP 等）扫码绑定，并保存恢复码；演示时可用 TWO_FACTOR_REQUIRED=false 关闭。"
                )
            )
        if bound:
            self.stdout.write(
                f"两步验证登录：{'、'.join(bound)} 已绑定身份验证器；手机不在身边时用恢复码，"
                "或运行 manage.py load_demo --reset-two-factor 重新绑定。"
            )
