"""The tamper-evident record, step 1 of 3 (schema): the timeline's chain fields (filled by 0008,
made required by 0009), the Approval evidence table, and the plans' four-eyes setting."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_clocks_history_and_numbers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencyplan",
            name="four_eyes",
            field=models.BooleanField(
                default=False,
                help_text="开启后，审定回应稿的领导不能是该稿的起草人或所审版本的撰写人，审阅书面报告的领导不能是报告人：起草和审定、报告和审阅须由两个人完成。",
                verbose_name="审定回避（四眼原则）",
            ),
        ),
        migrations.AddField(
            model_name="timelineentry",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="本条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="timelineentry",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="上一条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="timelineentry",
            name="seq",
            field=models.PositiveIntegerField(
                editable=False, help_text="本事件处置记录中的第几条。", null=True, verbose_name="序号"
            ),
        ),
        migrations.AlterField(
            model_name="timelineentry",
            name="recorded_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="记录时间"
            ),
        ),
        migrations.CreateModel(
            name="Approval",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "decision",
                    models.CharField(
                        choices=[("approved", "审定同意"), ("rejected", "退回修改"), ("signed_off", "审阅签批")],
                        max_length=12,
                        verbose_name="审定结果",
                    ),
                ),
                ("version_number", models.PositiveIntegerField(blank=True, null=True, verbose_name="版本")),
                (
                    "content_sha256",
                    models.CharField(
                        help_text="所审定正文（或报告内容）的 SHA-256。", max_length=64, verbose_name="所审内容哈希"
                    ),
                ),
                ("decided_at", models.DateTimeField(verbose_name="审定时间")),
                ("comment", models.TextField(blank=True, verbose_name="审定意见")),
                ("hash", models.CharField(editable=False, max_length=64, verbose_name="本条哈希")),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审定人",
                    ),
                ),
                (
                    "entry",
                    models.OneToOneField(
                        blank=True,
                        help_text="与本审定同时写入、带有其哈希的处置记录；启用校验前的审定为空。",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approval",
                        to="incidents.timelineentry",
                        verbose_name="处置记录",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approvals",
                        to="incidents.incident",
                        verbose_name="舆情事件",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approvals",
                        to="incidents.report",
                        verbose_name="报告",
                    ),
                ),
                (
                    "statement_version",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approvals",
                        to="incidents.statementversion",
                        verbose_name="回应稿版本",
                    ),
                ),
            ],
            options={
                "verbose_name": "审定记录",
                "verbose_name_plural": "审定记录",
                "ordering": ["decided_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("statement_version__isnull", False), ("report__isnull", True)),
                            models.Q(("statement_version__isnull", True), ("report__isnull", False)),
                            _connector="OR",
                        ),
                        name="approval_of_one_record",
                    )
                ],
            },
        ),
    ]
