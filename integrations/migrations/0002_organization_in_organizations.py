"""Units now live in the organizations app (state only; the tables are unchanged)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="apitoken",
                    name="organization",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="api_tokens",
                        to="organizations.organization",
                        verbose_name="单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhooksubscription",
                    name="organization",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="webhook_subscriptions",
                        to="organizations.organization",
                        verbose_name="单位",
                    ),
                ),
            ]
        ),
    ]
