import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_dashboard_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencyplan",
            name="drill_interval_months",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="每 N 个月至少开展一次应急演练；留空表示预案未规定。",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(60),
                ],
                verbose_name="演练周期（月）",
            ),
        ),
    ]
