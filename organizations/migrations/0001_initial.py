"""Units, memberships and working groups move from the incidents app to an app of their own.

State only: the tables stay where they are (renamed in 0002); the content types follow the models.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["organization", "membership", "responsegroup", "groupmember"]


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="incidents", model__in=MOVED).update(app_label="organizations")


def move_content_types_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="organizations", model__in=MOVED).update(app_label="incidents")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("incidents", "0004_deadline_dashboard_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="GroupMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "position",
                            models.CharField(
                                choices=[("head", "组长"), ("deputy", "副组长"), ("member", "成员")],
                                default="member",
                                max_length=10,
                                verbose_name="职务",
                            ),
                        ),
                        ("duties", models.CharField(blank=True, max_length=200, verbose_name="分工")),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="group_memberships",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="人员",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "工作组成员",
                        "verbose_name_plural": "工作组成员",
                        "db_table": "incidents_groupmember",
                    },
                ),
                migrations.CreateModel(
                    name="Organization",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True, verbose_name="单位名称")),
                        ("code", models.SlugField(max_length=64, unique=True, verbose_name="单位代码")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                        (
                            "parent",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="subordinates",
                                to="organizations.organization",
                                verbose_name="上级主管部门",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "单位",
                        "verbose_name_plural": "单位",
                        "db_table": "incidents_organization",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "is_unit_admin",
                            models.BooleanField(
                                default=False,
                                help_text="可在后台维护本单位的预案、工作组和人员。",
                                verbose_name="单位管理员",
                            ),
                        ),
                        ("phone", models.CharField(blank=True, max_length=32, verbose_name="联系电话")),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="membership",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="用户",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="memberships",
                                to="organizations.organization",
                                verbose_name="所属单位",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "单位成员",
                        "verbose_name_plural": "单位成员",
                        "db_table": "incidents_membership",
                    },
                ),
                migrations.CreateModel(
                    name="ResponseGroup",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("leadership", "领导小组"),
                                    ("office", "领导小组办公室"),
                                    ("monitoring", "舆情监测组"),
                                    ("analysis", "舆情研判组"),
                                    ("handling", "舆情处置组"),
                                    ("publicity", "宣传组（信息发布）"),
                                    ("legal", "法律援助组"),
                                    ("support", "综合保障组"),
                                ],
                                max_length=20,
                                verbose_name="类别",
                            ),
                        ),
                        ("name", models.CharField(max_length=100, verbose_name="名称")),
                        ("duties", models.TextField(blank=True, verbose_name="工作职责")),
                        (
                            "members",
                            models.ManyToManyField(
                                related_name="response_groups",
                                through="organizations.GroupMember",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="成员",
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="response_groups",
                                to="organizations.organization",
                                verbose_name="单位",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "工作组",
                        "verbose_name_plural": "工作组",
                        "db_table": "incidents_responsegroup",
                        "ordering": ["organization", "kind", "name"],
                    },
                ),
                migrations.AddField(
                    model_name="groupmember",
                    name="group",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="organizations.responsegroup",
                        verbose_name="工作组",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="responsegroup",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "name"), name="group_name_unique_per_unit"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="groupmember",
                    constraint=models.UniqueConstraint(fields=("group", "user"), name="group_member_unique"),
                ),
            ],
            database_operations=[migrations.RunPython(move_content_types, move_content_types_back)],
        ),
    ]
