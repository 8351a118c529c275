"""The tamper-evident record, step 3 of 3: every timeline entry has its number in its incident's
chain, numbers are unique per incident, and the database refuses UPDATE, DELETE and TRUNCATE of
timeline entries and approvals (opinion_ops.append_only)."""

from django.db import migrations, models

from opinion_ops.append_only import append_only_operations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_record_chain_backfill")]

    operations = [
        migrations.AlterField(
            model_name="timelineentry",
            name="seq",
            field=models.PositiveIntegerField(
                editable=False, help_text="本事件处置记录中的第几条。", verbose_name="序号"
            ),
        ),
        migrations.AddConstraint(
            model_name="timelineentry",
            constraint=models.UniqueConstraint(fields=("incident", "seq"), name="timeline_seq_unique_per_incident"),
        ),
        migrations.RunPython(*append_only_operations("incidents_timelineentry")),
        migrations.RunPython(*append_only_operations("incidents_approval")),
    ]
