"""Load the demo unit: a unit under a superior unit, the default plan, its groups, one user per role,
and a handful of incidents in different states, so that the dashboard and charts have something to show.

Safe to run again: what exists is kept; demo passwords are reset and printed each time. The demo
incidents are created once, through the same services people use (so their timelines, clocks,
notifications and record chain are real): when the unit already has incidents with the demo titles,
none is added. With two-factor sign-in required (TWO_FACTOR_REQUIRED, the default), the demo leaders
and the administrator bind an authenticator app at their first sign-in; --reset-two-factor unbinds
them again.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.selectors import second_factor_needed, second_factor_set_up
from accounts.services import second_factor_reset
from incidents.models import (
    Assessment,
    EmergencyPlan,
    HandlingCategory,
    Incident,
    IncidentType,
    Measure,
    Platform,
    Report,
    Statement,
    WarningLevel,
)
from incidents.services import incidents as incident_services
from incidents.services import records, statements
from incidents.services.deadline_clock import deadlines_sweep
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

# The demo incidents' titles are their marker: a unit that has any of them gets no new ones.
SCHOOL_BUS = "示范区第二小学校车晚点，家长建议优化接送线路"
CORPORAL_PUNISHMENT = "网传某中学教师体罚学生视频在抖音传播"
TUTORING_REFUND = "校外培训机构“启航教育”停课退费纠纷，家长论坛发帖维权"
SCHOOL_ZONES = "学区划分调整方案引发家长质疑"
CANTEEN = "某小学食堂食品安全问题在微博被投诉"
DEMO_INCIDENT_TITLES = (SCHOOL_BUS, CORPORAL_PUNISHMENT, TUTORING_REFUND, SCHOOL_ZONES, CANTEEN)


@dataclass(frozen=True)
class DemoUnit:
    """The demo unit's people and plan, and the moment the demo's back-dated times count from."""

    now: datetime
    people: dict[str, Any]
    groups: dict[str, ResponseGroup]
    levels: dict[int, WarningLevel]
    categories: dict[str, HandlingCategory]
    types: dict[str, IncidentType]

    @classmethod
    def load(cls, unit: Organization) -> "DemoUnit":
        plan = EmergencyPlan.objects.get(organization=unit, status=EmergencyPlan.Status.ACTIVE)
        usernames = [row[0] for row in DEMO_USERS]
        return cls(
            now=timezone.now(),
            people={user.username: user for user in get_user_model().objects.filter(username__in=usernames)},
            groups={group.kind: group for group in ResponseGroup.objects.filter(organization=unit)},
            levels={level.rank: level for level in plan.levels.all()},
            categories={category.code: category for category in plan.categories.all()},
            types={incident_type.name: incident_type for incident_type in plan.incident_types.all()},
        )

    def ago(self, minutes: int) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def log(self, title: str, minutes_ago: int, platform: str, description: str, **extra: Any) -> Incident:
        return incident_services.incident_create(
            actor=self.people["monitor"],
            title=title,
            discovered_at=self.ago(minutes_ago),
            platform=platform,
            description=description,
            **extra,
        )

    def report(self, incident: Incident, kind: str, minutes_ago: int, summary: str, **extra: Any) -> Report:
        return records.report_record(
            incident_id=incident.pk,
            actor=self.people["office"],
            kind=kind,
            reported_to="领导小组组长周组长",
            occurred_at=self.ago(minutes_ago),
            summary=summary,
            **extra,
        )

    def assess(self, incident: Incident, level_rank: int, category: str, **fields: Any) -> Assessment:
        incident_services.incident_start_assessment(incident_id=incident.pk, actor=self.people["analyst"])
        return incident_services.assessment_record(
            incident_id=incident.pk,
            actor=self.people["analyst"],
            proposed_level=self.levels[level_rank],
            proposed_category=self.categories[category],
            **fields,
        )

    def warn_and_respond(
        self, incident: Incident, actor: str, level_rank: int, text: str, *groups: tuple[str, str]
    ) -> None:
        """The warning notice with what each group must do, then the handlers take it into 处置."""
        incident_services.incident_issue_warning(
            incident_id=incident.pk,
            actor=self.people[actor],
            level=self.levels[level_rank],
            text=text,
            groups=[(self.groups[kind], requirement) for kind, requirement in groups],
        )
        incident_services.incident_start_response(incident_id=incident.pk, actor=self.people["handler"])

    def statement(self, incident: Incident, title: str, text: str) -> Statement:
        """Drafted by the spokesperson and submitted to the leaders."""
        drafted = statements.statement_create(
            incident_id=incident.pk, actor=self.people["spokesperson"], title=title, text=text
        )
        return statements.statement_submit(statement_id=drafted.pk, actor=self.people["spokesperson"])


def _school_bus(demo: DemoUnit) -> Incident:
    """Handled within the plan's clocks and now in 跟踪: every report and the public response on time."""
    incident = demo.log(
        SCHOOL_BUS,
        160,
        Platform.WECHAT,
        "家长在班级群和区教育局微信公众号留言：第二小学 3 号线校车今早晚点约 40 分钟，学生迟到，"
        "建议调整接送线路并提前通知家长。",
    )
    demo.report(incident, Report.Kind.ORAL, 145, "第二小学校车晚点约 40 分钟，家长留言较多，已联系学校和校车公司核实。")
    demo.assess(
        incident,
        3,
        HandlingCategory.Code.CONSTRUCTIVE,
        nature="家长对校车准点和线路安排提出意见建议，无恶意炒作。",
        scope="本校家长群及公众号留言区，转发量小。",
        trend=Assessment.Trend.FALLING,
        risk=Assessment.Risk.LOW,
        recommendation="建议发布三级预警，由处置组核实原因，宣传组统一回应并采纳合理建议。",
    )
    demo.warn_and_respond(
        incident,
        "analyst",
        3,
        "第二小学校车晚点引发家长留言，请相关工作组按分工处置。",
        (ResponseGroup.Kind.HANDLING, "会同学校和校车公司核实晚点原因，提出线路调整方案。"),
        (ResponseGroup.Kind.PUBLICITY, "起草情况说明，在公众号统一回应。"),
    )
    records.measure_record(
        incident_id=incident.pk,
        actor=demo.people["handler"],
        kind=Measure.Kind.OTHER,
        description="联系校车公司核实：3 号线车辆途中故障换车，晚点约 40 分钟；已要求增派备用车辆。",
        taken_at=demo.ago(125),
        target="校车运营公司",
    )
    written = demo.report(
        incident,
        Report.Kind.WRITTEN,
        95,
        "第二小学校车晚点情况及处置报告",
        cause="3 号线校车途中发生故障，换车耽误约 40 分钟。",
        facts="涉及学生 38 人，无人员受伤；家长留言 20 余条，未见转发扩散。",
        measures_taken="已核实原因，要求校车公司增派备用车辆；拟在公众号发布情况说明并征集线路优化建议。",
    )
    records.report_sign_off(
        report_id=written.pk, actor=demo.people["leader"], comment="同意。请处置组一周内报线路调整方案。"
    )
    statement = demo.statement(
        incident,
        "关于第二小学 3 号线校车晚点的情况说明",
        "今日早晨，第二小学 3 号线校车因途中车辆故障换车，晚点约 40 分钟，未造成人员受伤。"
        "我局已要求校车运营公司增派备用车辆，并将结合家长建议优化接送线路。感谢家长的理解与监督。",
    )
    statements.statement_decide(statement_id=statement.pk, actor=demo.people["leader"], approve=True)
    statements.statement_publish(
        statement_id=statement.pk, actor=demo.people["spokesperson"], channel="示范区教育局微信公众号"
    )
    return incident_services.incident_start_tracking(incident_id=incident.pk, actor=demo.people["handler"])


def _corporal_punishment(demo: DemoUnit) -> Incident:
    """In 处置 and reported up: the written report waits for the leader's sign-off, the statement for approval."""
    incident = demo.log(
        CORPORAL_PUNISHMENT,
        100,
        Platform.DOUYIN,
        "抖音账号发布一段约 30 秒的视频，称我区某中学教师在课堂上体罚学生，视频未打码，"
        "点赞过万，评论区出现对学校和教育局的指责。",
        incident_type=demo.types.get("恶意炒作"),
    )
    demo.report(incident, Report.Kind.ORAL, 85, "网传某中学教师体罚学生视频，传播较快，建议启动预案。")
    demo.assess(
        incident,
        2,
        HandlingCategory.Code.HYPE,
        nature="涉及未成年人权益和师德师风，视频经剪辑后被多个账号转发炒作。",
        scope="抖音、微博多个账号转发，已有本地自媒体跟进。",
        trend=Assessment.Trend.RISING,
        risk=Assessment.Risk.HIGH,
        recommendation="建议发布二级预警，领导小组统一指挥；尽快核实并发布情况通报，同时报市教育局。",
    )
    demo.warn_and_respond(
        incident,
        "leader",
        2,
        "网传教师体罚学生视频持续发酵，启动二级响应。",
        (ResponseGroup.Kind.HANDLING, "调查组进校核实，约谈涉事教师，安抚学生和家长。"),
        (ResponseGroup.Kind.PUBLICITY, "3 小时内起草情况通报，报领导小组审定后发布。"),
        (ResponseGroup.Kind.LEGAL, "就未打码视频涉及未成年人隐私提出法律意见。"),
    )
    records.measure_record(
        incident_id=incident.pk,
        actor=demo.people["handler"],
        kind=Measure.Kind.EDUCATION,
        description="调查组进校核实，涉事教师暂停教学工作，配合调查；已与学生家长当面沟通。",
        taken_at=demo.ago(55),
        target="涉事学校",
    )
    records.measure_record(
        incident_id=incident.pk,
        actor=demo.people["legal"],
        kind=Measure.Kind.TAKEDOWN,
        description="视频未对未成年人面部打码，已依法请求平台下架原视频。",
        taken_at=demo.ago(40),
        target="抖音平台",
    )
    records.task_create(
        incident_id=incident.pk,
        actor=demo.people["office"],
        title="核实视频拍摄时间、地点及前因后果，形成调查报告",
        assignee_group=demo.groups[ResponseGroup.Kind.HANDLING],
        due_at=demo.now + timedelta(hours=3),
    )
    demo.report(
        incident,
        Report.Kind.WRITTEN,
        15,
        "网传某中学教师体罚学生视频情况报告",
        cause="学生家长拍摄课堂视频后发布至抖音，被多个账号剪辑转发。",
        facts="视频拍摄于本周二，涉事教师为初二年级班主任；被体罚学生无明显外伤，已由家长带往医院检查。",
        measures_taken="调查组已进校核实，涉事教师暂停教学；已请求平台下架未打码视频；情况通报正在审定。",
        to_superior=True,
    )
    demo.statement(
        incident,
        "关于网传我区某中学教师体罚学生视频的情况通报",
        "近日，网传我区某中学教师体罚学生的视频引发关注。我局高度重视，第一时间成立调查组进校核实。"
        "经初步核实，涉事教师已暂停教学工作，接受调查。我局将依规依纪严肃处理，调查结果将及时向社会公布。",
    )
    return Incident.objects.get(pk=incident.pk)


def _tutoring_refund(demo: DemoUnit) -> Incident:
    """Logged well after it was found and never reported orally: the sweeper records the miss and pages."""
    incident = demo.log(
        TUTORING_REFUND,
        75,
        Platform.FORUM,
        "多名家长在本地论坛发帖，称校外培训机构“启航教育”突然停课，预付费用无法退还，要求教育局介入，跟帖 200 余条。",
        incident_type=demo.types.get("其他"),
    )
    return incident_services.incident_start_assessment(incident_id=incident.pk, actor=demo.people["analyst"])


def _school_zones(demo: DemoUnit) -> Incident:
    """Reported in time and assessed: waits for the leaders to decide on the warning."""
    incident = demo.log(
        SCHOOL_ZONES,
        40,
        Platform.WECHAT,
        "学区划分调整方案公示后，部分家长在微信群和公众号留言，质疑调整依据和公示时间，要求公开划片标准。",
    )
    demo.report(incident, Report.Kind.ORAL, 20, "学区划分调整方案公示后家长质疑较多，正在研判。")
    demo.assess(
        incident,
        3,
        HandlingCategory.Code.INQUIRY,
        nature="家长对学区划分依据和程序的询问、质疑，属正常诉求。",
        scope="涉及两个小区家长，集中在微信群和公众号留言区。",
        trend=Assessment.Trend.RISING,
        risk=Assessment.Risk.MEDIUM,
        recommendation="建议发布三级预警，由基础教育科牵头答复，当日回复家长诉求并公开划片标准。",
    )
    return Incident.objects.get(pk=incident.pk)


def _canteen(demo: DemoUnit) -> Incident:
    """Just logged: waits to be taken into 研判, its oral-report clock counting."""
    return demo.log(
        CANTEEN,
        8,
        Platform.WEIBO,
        "微博用户发帖称某小学食堂饭菜中发现异物，配图 3 张，要求学校给个说法，已有少量转发。",
        incident_type=demo.types.get("其他"),
    )


# Oldest first, so the unit's numbers follow the order of discovery.
DEMO_INCIDENTS: list[tuple[str, str, Callable[[DemoUnit], Incident]]] = [
    (SCHOOL_BUS, "各项时限按时完成，已发布回应，转入跟踪", _school_bus),
    (CORPORAL_PUNISHMENT, "回应稿待领导审定，书面报告待审阅，已报上级", _corporal_punishment),
    (TUTORING_REFUND, "口头报告逾期未报，已通知责任人", _tutoring_refund),
    (SCHOOL_ZONES, "已研判，待决定预警", _school_zones),
    (CANTEEN, "刚登记，口头报告时限计时中", _canteen),
]
NOTES = {title: note for title, note, _load in DEMO_INCIDENTS}


class Command(BaseCommand):
    help = (
        "Load the demo unit with the default plan, one user per role and a handful of demo incidents in different "
        "states and clocks, and print their logins. The demo incidents are recognised by their titles and created "
        "once: when the unit already has any of them, none is added."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", help="Use this password for every demo user instead of random ones.")
        parser.add_argument(
            "--reset-two-factor",
            action="store_true",
            help="Unbind the demo users' authenticators (and recovery codes): they bind one again at sign-in.",
        )
        parser.add_argument(
            "--no-incidents",
            action="store_true",
            help="Leave the demo unit without demo incidents (those already loaded are kept).",
        )

    @transaction.atomic
    def handle(
        self,
        *args: Any,
        password: str | None = None,
        reset_two_factor: bool = False,
        no_incidents: bool = False,
        **options: Any,
    ) -> None:
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

        created = False
        if not no_incidents and not self._demo_incidents(unit).exists():
            self._load_incidents(unit)
            created = True

        self.stdout.write(self.style.SUCCESS(f"演示单位：{unit.name}（上级主管部门：{superior.name}）"))
        self.stdout.write(f"演示账号 / Demo logins — {settings.SITE_URL}/")
        for label, username, secret in logins:
            self.stdout.write(f"  {label:<24} 用户名 {username:<14} 密码 {secret}")
        self._two_factor_note(demo_users)
        if not no_incidents:
            self._incidents_note(unit, created)

    def _demo_incidents(self, unit: Organization) -> Any:
        return Incident.objects.filter(organization=unit, title__in=DEMO_INCIDENT_TITLES)

    def _load_incidents(self, unit: Organization) -> None:
        demo = DemoUnit.load(unit)
        for _title, _note, load in DEMO_INCIDENTS:
            load(demo)
        # What the beat would do within a second of `make run`: record the missed clock and page its owners.
        deadlines_sweep()

    def _incidents_note(self, unit: Organization, created: bool) -> None:
        heading = "演示舆情（已创建）：" if created else "演示舆情（已存在，未重复创建）："
        self.stdout.write(heading)
        for incident in self._demo_incidents(unit).order_by("discovered_at", "id"):
            self.stdout.write(
                f"  {incident.reference}  {incident.get_state_display():<4} {incident.title}（{NOTES[incident.title]}）"
            )

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
