"""The demo unit's monitoring reports (run by `make demo` after load_demo_monitoring): a 舆情日报 sent
each morning at 08:00 to the leader and the office, and a 舆情专报 of the last 24 hours, so the
reports page has something to open at once. Run again, it changes nothing."""

from datetime import time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization
from reports.models import Kind, MonitoringReport, ReportSchedule
from reports.services import monitoring_report_issue, report_schedule_save

SPECIAL_TITLE = "关于近24小时涉校舆情的专报"


class Command(BaseCommand):
    help = "Load the demo unit's report schedule and one special report (after load_demo_monitoring)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        unit = Organization.objects.filter(code="demo-district").first()
        if unit is None:
            raise CommandError("Run load_demo first: the demo unit does not exist.")
        users = {u.username: u for u in get_user_model().objects.filter(username__in=["leader", "office", "analyst"])}
        if "office" not in users:
            raise CommandError("Run load_demo first: the demo office user does not exist.")
        if not ReportSchedule.objects.filter(organization=unit, kind=Kind.DAILY).exists():
            report_schedule_save(
                actor=users["office"],
                kind=Kind.DAILY,
                enabled=True,
                send_time=time(8, 0),
                recipients=[u.pk for name, u in users.items() if name in ("leader", "office")],
            )
        if not MonitoringReport.objects.filter(organization=unit, title=SPECIAL_TITLE).exists():
            now = timezone.now()
            monitoring_report_issue(
                actor=users.get("analyst", users["office"]),
                kind=Kind.SPECIAL,
                start=now - timedelta(days=1),
                end=now,
                title=SPECIAL_TITLE,
                commentary="校车超载、体罚学生两起舆情已进入处置，建议领导小组关注回应时限。",
            )
        schedule = ReportSchedule.objects.get(organization=unit, kind=Kind.DAILY)
        at = timezone.localtime(schedule.next_due_at).strftime("%Y-%m-%d %H:%M") if schedule.next_due_at else "—"
        self.stdout.write(self.style.SUCCESS(f"演示舆情报告：舆情日报每天 08:00 报送（下次 {at}），已生成专报 1 份。"))
