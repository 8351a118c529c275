"""签收: the superior unit confirms it received a report sent up to it (who and when)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0011_record_corrections"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="received_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="上级签收时间"),
        ),
        migrations.AddField(
            model_name="report",
            name="received_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="签收人",
            ),
        ),
    ]
