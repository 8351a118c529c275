"""Units, memberships and working groups leave this app for `organizations` (state only: the
tables are kept and renamed by organizations.0002)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_deadline_dashboard_indexes"),
        ("organizations", "0001_initial"),
        ("notifications", "0002_group_in_organizations"),
        ("monitoring", "0002_organization_in_organizations"),
        ("integrations", "0002_organization_in_organizations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="incident",
                    name="organization",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="incidents",
                        to="organizations.organization",
                        verbose_name="单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="incident",
                    name="assigned_groups",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="incidents",
                        to="organizations.responsegroup",
                        verbose_name="承办工作组",
                    ),
                ),
                migrations.AlterField(
                    model_name="emergencyplan",
                    name="organization",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plans",
                        to="organizations.organization",
                        verbose_name="单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="deadline",
                    name="owner_group",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.responsegroup",
                        verbose_name="责任工作组",
                    ),
                ),
                migrations.AlterField(
                    model_name="task",
                    name="assignee_group",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tasks",
                        to="organizations.responsegroup",
                        verbose_name="承办工作组",
                    ),
                ),
                migrations.DeleteModel(name="GroupMember"),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="ResponseGroup"),
                migrations.DeleteModel(name="Organization"),
            ]
        ),
    ]
