"""Clocks a unit can stake its name on: leader decisions, rung-by-rung escalation, set-aside clocks,
late-logged incidents, the plan's escalation chain, and per-unit incident numbers."""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models

import incidents.models.plan

OLD_CHAIN = ["owner", "group_head", "leadership", "superior"]


def number_incidents(apps, schema_editor):
    """Existing incidents get their unit's numbers in the order they were logged (local year)."""
    from zoneinfo import ZoneInfo

    incident_model = apps.get_model("incidents", "Incident")
    number_model = apps.get_model("incidents", "IncidentNumber")
    local = ZoneInfo(settings.TIME_ZONE)
    last: dict[tuple[int, int], int] = {}
    for incident in incident_model.objects.order_by("organization_id", "logged_at", "id").only(
        "pk", "organization_id", "logged_at"
    ):
        year = incident.logged_at.astimezone(local).year
        key = (incident.organization_id, year)
        last[key] = last.get(key, 0) + 1
        incident_model.objects.filter(pk=incident.pk).update(reference=f"{year}-{last[key]:04d}")
    number_model.objects.bulk_create(
        [number_model(organization_id=org, year=year, last=n) for (org, year), n in last.items()]
    )


def escalation_steps_to_rungs(apps, schema_editor):
    """The old step counted escalations (and went on repeating at the top); it becomes the rung reached."""
    deadline_model = apps.get_model("incidents", "Deadline")
    for deadline in deadline_model.objects.filter(status="missed").only("pk", "escalation_step", "missed_at"):
        step = min(deadline.escalation_step, len(OLD_CHAIN) - 1)
        deadline_model.objects.filter(pk=deadline.pk).update(
            escalation_step=step, escalation_rung=OLD_CHAIN[step], last_escalated_at=deadline.missed_at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_units_move_to_organizations"),
        ("organizations", "0002_table_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentNumber",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField()),
                ("last", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "舆情编号",
                "verbose_name_plural": "舆情编号",
            },
        ),
        # A waiver is one of the decisions a leader takes on a clock: keep who, when and why.
        migrations.RenameField(model_name="deadline", old_name="waived_at", new_name="decided_at"),
        migrations.RenameField(model_name="deadline", old_name="waived_by", new_name="decided_by"),
        migrations.RenameField(model_name="deadline", old_name="waiver_reason", new_name="decision_reason"),
        migrations.AlterField(
            model_name="deadline",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="决定时间"),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                help_text="豁免、确认不再适用或确认按时完成的领导。",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="决定人",
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="decision_reason",
            field=models.TextField(blank=True, verbose_name="理由"),
        ),
        migrations.AddField(
            model_name="deadline",
            name="escalation_rung",
            field=models.CharField(
                blank=True,
                choices=[
                    ("owner", "责任人"),
                    ("group_head", "责任工作组组长、副组长"),
                    ("office", "领导小组办公室"),
                    ("leadership", "领导小组"),
                    ("superior", "上级主管部门"),
                ],
                help_text="最近通知到的上报层级。",
                max_length=20,
                verbose_name="已通知到",
            ),
        ),
        migrations.AddField(
            model_name="deadline",
            name="last_escalated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最近通知时间"),
        ),
        migrations.AddField(
            model_name="deadline",
            name="late_logged",
            field=models.BooleanField(
                default=False, help_text="登记时已过期，记为逾期，未发送提醒和升级。", verbose_name="后补登记时已逾期"
            ),
        ),
        migrations.AddField(
            model_name="deadline",
            name="met_recorded_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="完成登记时间"),
        ),
        migrations.AddField(
            model_name="deadline",
            name="quarantined_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="隔离时间"),
        ),
        migrations.AddField(
            model_name="deadline",
            name="sweep_error",
            field=models.TextField(blank=True, verbose_name="最近处理错误"),
        ),
        migrations.AddField(
            model_name="deadline",
            name="sweep_failures",
            field=models.PositiveIntegerField(default=0, verbose_name="处理失败次数"),
        ),
        migrations.AddField(
            model_name="deadlinesignal",
            name="rung",
            field=models.CharField(
                blank=True,
                choices=[
                    ("owner", "责任人"),
                    ("group_head", "责任工作组组长、副组长"),
                    ("office", "领导小组办公室"),
                    ("leadership", "领导小组"),
                    ("superior", "上级主管部门"),
                ],
                max_length=20,
                verbose_name="通知层级",
            ),
        ),
        migrations.AddField(
            model_name="emergencyplan",
            name="escalation_chain",
            field=models.JSONField(
                default=incidents.models.plan.default_escalation_chain,
                help_text="时限逾期后依次通知的层级，每个间隔上升一级，每级只通知一次。可选：owner（责任人）、group_head（责任工作组组长、副组长）、office（领导小组办公室）、leadership（领导小组）、superior（上级主管部门，仅在已上报或级别要求上级处置时）。",
                verbose_name="逐级上报顺序",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="logged_late",
            field=models.BooleanField(
                default=False,
                help_text="事后补录：登记时已过期的时限记为逾期，不再发送提醒和升级。",
                verbose_name="后补登记",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="reference",
            field=models.CharField(
                default="",
                editable=False,
                help_text="本单位内的舆情编号，例如 2026-0042。",
                max_length=20,
                verbose_name="编号",
            ),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="escalation_step",
            field=models.PositiveIntegerField(default=0, verbose_name="已通知层级数"),
        ),
        migrations.AlterField(
            model_name="deadline",
            name="status",
            field=django_fsm.FSMField(
                choices=[
                    ("pending", "未到期"),
                    ("met", "已按时完成"),
                    ("late", "逾期后完成"),
                    ("missed", "已逾期"),
                    ("waived", "已豁免"),
                    ("cancelled", "不再适用"),
                ],
                default="pending",
                max_length=10,
                protected=True,
                verbose_name="状态",
            ),
        ),
        migrations.AlterField(
            model_name="deadlinesignal",
            name="step",
            field=models.PositiveIntegerField(help_text="提醒为提前分钟数，升级为第几次通知。", verbose_name="序号"),
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
                ],
                max_length=20,
                verbose_name="类型",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("sweep_failures__gt", 0)), fields=["quarantined_at"], name="deadline_sweep_failed"
            ),
        ),
        migrations.AddField(
            model_name="incidentnumber",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organizations.organization"
            ),
        ),
        migrations.AddConstraint(
            model_name="incidentnumber",
            constraint=models.UniqueConstraint(fields=("organization", "year"), name="incident_number_per_unit_year"),
        ),
        migrations.RunPython(number_incidents, migrations.RunPython.noop),
        migrations.RunPython(escalation_steps_to_rungs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reference", ""), _negated=True),
                fields=("organization", "reference"),
                name="incident_reference_unique_per_unit",
            ),
        ),
    ]
