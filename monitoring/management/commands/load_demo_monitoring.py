"""The demo unit's monitoring (run by `make demo` after load_demo): two keyword schemes, a duty
roster with the monitor on duty, and a handful of posts pushed as another tool would, matched at once
so the alerts page and the dashboard show an alert. Running it again adds nothing twice."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import DutyShift, KeywordScheme, MonitoringSettings, Source
from organizations.models import Organization

SCHEMES = [
    {
        "name": "校园食品安全",
        "regions": "示范区 城东",
        "subjects": "一中 实验小学 第二中学 第二小学",
        "events": "食堂 中毒 变质 异物 腹泻",
        "severity": KeywordScheme.Severity.HIGH,
        "threshold_posts": 3,
        "window_minutes": 120,
        "watched_accounts": "@示范区爆料",
    },
    {
        "name": "教育收费",
        "regions": "示范区",
        "subjects": "学校 培训机构 中学 小学",
        "events": "乱收费 补课费 退费 收费",
        "severity": KeywordScheme.Severity.MEDIUM,
        "threshold_posts": 5,
        "window_minutes": 60,
    },
]

POSTS = [
    ("weibo", "@家长小王", "示范区实验小学食堂今天午饭有异物，孩子回家说肚子疼，有没有同样情况的家长？"),
    ("weibo", "@城东生活圈", "转发：示范区实验小学食堂饭菜疑似变质，多名学生腹泻，学校还没回应。"),
    ("douyin", "@示范区爆料", "实拍示范区实验小学食堂后厨，卫生状况堪忧 #食品安全"),
    ("wechat", "示范区家长群", "听说示范区一中要调整作息时间，有家长知道具体安排吗？"),
    ("forum", "城东论坛网友", "示范区第二中学门口早高峰拥堵，建议增加交通疏导。"),
    ("weibo", "@培训家长", "示范区某培训机构退费难，已经一个多月了，学校和机构互相推诿。"),
]


class Command(BaseCommand):
    help = "Load the demo unit's keyword schemes, duty roster and sample posts (after load_demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        unit = Organization.objects.filter(code="demo-district").first()
        if unit is None:
            raise CommandError("Run load_demo first: the demo unit does not exist.")
        users = {u.username: u for u in get_user_model().objects.filter(username__in=["monitor", "analyst", "leader"])}
        MonitoringSettings.objects.get_or_create(organization=unit, defaults={"exclusions": "招聘 广告 演练"})
        for fields in SCHEMES:
            scheme, created = KeywordScheme.objects.get_or_create(
                organization=unit, name=fields["name"], defaults={**fields, "created_by": users.get("monitor")}
            )
            if created and "leader" in users and scheme.severity == KeywordScheme.Severity.HIGH:
                scheme.recipients.add(users["leader"])
        now = timezone.now()
        if "monitor" in users and not DutyShift.objects.filter(organization=unit, ends_at__gt=now).exists():
            day = now.replace(minute=0, second=0, microsecond=0)
            DutyShift.objects.create(
                organization=unit,
                user=users["monitor"],
                starts_at=day - timedelta(hours=2),
                ends_at=day + timedelta(hours=10),
            )
            if "analyst" in users:
                DutyShift.objects.create(
                    organization=unit,
                    user=users["analyst"],
                    starts_at=day + timedelta(hours=10),
                    ends_at=day + timedelta(hours=22),
                    note="夜班",
                )
        source = source_of_kind(unit.pk, Source.Kind.API)
        posts = [
            PostIn(text=text, platform=platform, author=author, external_id=f"demo-{index}")
            for index, (platform, author, text) in enumerate(POSTS, start=1)
        ]
        result = posts_ingest(source_id=source.pk, posts=posts, match=False)
        matched = posts_match(result.created)
        self.stdout.write(
            self.style.SUCCESS(
                f"演示监测：{len(SCHEMES)} 个监测方案，{len(result.created)} 条新信息"
                f"（重复 {result.duplicates} 条），预警 {matched['alerts_raised']} 条。"
            )
        )
