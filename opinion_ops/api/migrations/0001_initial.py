"""The stored responses of idempotent API writes (moved here from the integrations app)."""

import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("principal", models.CharField(max_length=40, verbose_name="调用方")),
                ("key", models.CharField(max_length=255, verbose_name="幂等键")),
                ("request_fingerprint", models.CharField(max_length=64, verbose_name="请求指纹")),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="响应码")),
                (
                    "response_body",
                    models.JSONField(
                        blank=True,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        null=True,
                        verbose_name="响应内容",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="创建时间")),
            ],
            options={
                "verbose_name": "幂等记录",
                "verbose_name_plural": "幂等记录",
                "constraints": [models.UniqueConstraint(fields=("principal", "key"), name="api_idempotency_key_once")],
            },
        ),
    ]
