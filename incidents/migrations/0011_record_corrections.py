"""Correcting the record: a duplicate incident merged into another (合并至), related incidents
(关联舆情), and the discussion thread (评论) — comments and links append-only like the timeline."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from opinion_ops.append_only import append_only_operations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0010_workflow_papers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                help_text="重复登记的舆情并入的舆情；并入后本事件关闭，记录留在本事件。",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_duplicates",
                to="incidents.incident",
                verbose_name="合并至",
            ),
        ),
        migrations.AlterField(
            model_name="timelineentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "登记"),
                    ("edited", "修改"),
                    ("transition", "状态变更"),
                    ("level", "级别调整"),
                    ("assignment", "分派"),
                    ("assessment", "研判"),
                    ("mention", "关联信息"),
                    ("task", "任务"),
                    ("measure", "处置措施"),
                    ("report", "报告"),
                    ("statement", "公开回应"),
                    ("deadline", "时限"),
                    ("reminder", "时限提醒"),
                    ("review", "总结评估"),
                    ("escalation", "上报"),
                    ("merge", "合并"),
                    ("link", "关联舆情"),
                    ("comment", "评论"),
                ],
                max_length=20,
                verbose_name="类型",
            ),
        ),
        migrations.CreateModel(
            name="Comment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField(verbose_name="内容")),
                (
                    "mentioned",
                    models.JSONField(
                        blank=True, default=list, help_text="被 @ 提及的人员 id。", verbose_name="提及的人员"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="发表时间"
                    ),
                ),
                ("sha256", models.CharField(editable=False, max_length=64, verbose_name="内容哈希")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发表人",
                    ),
                ),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="comment",
                        to="incidents.timelineentry",
                        verbose_name="处置记录",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="comments",
                        to="incidents.incident",
                        verbose_name="舆情事件",
                    ),
                ),
            ],
            options={
                "verbose_name": "评论",
                "verbose_name_plural": "评论",
                "ordering": ["created_at", "id"],
                "abstract": False,
                "indexes": [models.Index(fields=["incident", "created_at"], name="comment_incident_time")],
            },
        ),
        migrations.CreateModel(
            name="IncidentLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="关联说明")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="关联时间"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="关联人",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links_out",
                        to="incidents.incident",
                        verbose_name="舆情事件",
                    ),
                ),
                (
                    "related",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links_in",
                        to="incidents.incident",
                        verbose_name="关联舆情",
                    ),
                ),
            ],
            options={
                "verbose_name": "关联舆情",
                "verbose_name_plural": "关联舆情",
                "ordering": ["created_at", "id"],
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("incident", "related"), name="incident_link_unique_pair"),
                    models.CheckConstraint(
                        condition=models.Q(("incident__lt", models.F("related"))), name="incident_link_ordered"
                    ),
                ],
            },
        ),
        migrations.RunPython(*append_only_operations("incidents_comment")),
        migrations.RunPython(*append_only_operations("incidents_incidentlink")),
    ]
