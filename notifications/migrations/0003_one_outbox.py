"""One outbox: a unit's signed webhooks become channels of the unit; deliveries carry the event."""

import uuid

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_group_in_organizations"),
        ("organizations", "0002_table_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="notificationchannel",
            name="channel_owner_user_xor_group",
        ),
        migrations.AddField(
            model_name="delivery",
            name="event_id",
            field=models.UUIDField(default=uuid.uuid4, help_text="接收方据此去重，重发不变。", verbose_name="事件编号"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="last_response_status",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="最近响应码"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="payload",
            field=models.JSONField(
                blank=True,
                default=dict,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="事件数据",
            ),
        ),
        migrations.AddField(
            model_name="deliveryattempt",
            name="response_body",
            field=models.TextField(blank=True, verbose_name="响应内容（截断）"),
        ),
        migrations.AddField(
            model_name="deliveryattempt",
            name="response_status",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="响应码"),
        ),
        migrations.AddField(
            model_name="notificationchannel",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="创建人",
            ),
        ),
        migrations.AddField(
            model_name="notificationchannel",
            name="events",
            field=models.JSONField(
                blank=True, default=list, help_text="系统对接 Webhook 订阅的事件。", verbose_name="订阅事件"
            ),
        ),
        migrations.AddField(
            model_name="notificationchannel",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                help_text="系统对接 Webhook 属于单位，接收所订阅的本单位事件。",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notification_channels",
                to="organizations.organization",
                verbose_name="单位",
            ),
        ),
        migrations.AlterField(
            model_name="notificationchannel",
            name="kind",
            field=models.CharField(
                choices=[
                    ("email", "电子邮件"),
                    ("wecom", "企业微信群机器人"),
                    ("dingtalk", "钉钉群机器人"),
                    ("feishu", "飞书群机器人"),
                    ("webhook", "通用 Webhook（JSON）"),
                    ("signed_webhook", "系统对接 Webhook（签名）"),
                ],
                max_length=20,
                verbose_name="渠道",
            ),
        ),
        migrations.AlterField(
            model_name="notificationchannel",
            name="secret",
            field=models.CharField(
                blank=True,
                help_text="钉钉机器人“加签”密钥；系统对接 Webhook 的签名密钥。",
                max_length=200,
                verbose_name="密钥",
            ),
        ),
        migrations.AlterField(
            model_name="notificationchannel",
            name="target",
            field=models.CharField(
                help_text="电子邮件地址，或机器人的 Webhook 地址（须以 http:// 或 https:// 开头）。",
                max_length=1000,
                verbose_name="地址",
            ),
        ),
        migrations.AddIndex(
            model_name="notificationchannel",
            index=models.Index(
                condition=models.Q(("organization__isnull", False)),
                fields=["organization"],
                name="channel_unit_subscriptions",
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationchannel",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("group__isnull", True), ("organization__isnull", True), ("user__isnull", False)),
                    models.Q(("group__isnull", False), ("organization__isnull", True), ("user__isnull", True)),
                    models.Q(("group__isnull", True), ("organization__isnull", False), ("user__isnull", True)),
                    _connector="OR",
                ),
                name="channel_has_one_owner",
            ),
        ),
    ]
