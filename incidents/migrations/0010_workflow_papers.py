"""The papers as people work with them: the warning notice (预警通知: level, text, the groups that
must act and what each must do), the leader's 批示 on a written report, 法律审核 of statements (a
plan setting, the review kept on each version) and the withdrawal of a submitted statement."""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_record_chain_append_only"),
        ("organizations", "0003_audit_trail"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencyplan",
            name="legal_review",
            field=models.BooleanField(
                default=False,
                help_text="开启后，回应稿提交后先由法律援助组审核，审核通过再送领导小组审定；法律援助组可退回修改。",
                verbose_name="法律审核",
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="sign_off_comment",
            field=models.TextField(blank=True, verbose_name="领导批示"),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="legal_comment",
            field=models.TextField(blank=True, verbose_name="法律审核意见"),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="legal_decision",
            field=models.CharField(
                blank=True,
                choices=[("", "未审定"), ("approved", "同意"), ("rejected", "退回")],
                default="",
                max_length=10,
                verbose_name="法律审核结果",
            ),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="legal_reviewed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="法律审核时间"),
        ),
        migrations.AddField(
            model_name="statementversion",
            name="legal_reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="法律审核人",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="status",
            field=django_fsm.FSMField(
                choices=[
                    ("draft", "草稿"),
                    ("legal_review", "待法律审核"),
                    ("submitted", "待审定"),
                    ("approved", "已审定"),
                    ("rejected", "退回修改"),
                    ("published", "已发布"),
                ],
                default="draft",
                max_length=50,
                protected=True,
                verbose_name="状态",
            ),
        ),
        migrations.CreateModel(
            name="WarningNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("issued", "发布预警"), ("level_changed", "调整级别")],
                        default="issued",
                        max_length=20,
                        verbose_name="类型",
                    ),
                ),
                ("text", models.TextField(blank=True, verbose_name="预警内容")),
                ("issued_at", models.DateTimeField(verbose_name="发布时间")),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="warning_notices",
                        to="incidents.incident",
                        verbose_name="舆情事件",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
                (
                    "level",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="incidents.warninglevel",
                        verbose_name="预警级别",
                    ),
                ),
            ],
            options={
                "verbose_name": "预警通知",
                "verbose_name_plural": "预警通知",
                "ordering": ["issued_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="WarningNoticeGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requirement", models.TextField(blank=True, verbose_name="工作要求")),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.responsegroup",
                        verbose_name="工作组",
                    ),
                ),
                (
                    "notice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assignments",
                        to="incidents.warningnotice",
                        verbose_name="预警通知",
                    ),
                ),
            ],
            options={
                "verbose_name": "预警通知工作组",
                "verbose_name_plural": "预警通知工作组",
                "ordering": ["notice", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("notice", "group"), name="warning_notice_group_unique")
                ],
            },
        ),
    ]
