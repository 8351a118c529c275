"""最近时限 on the incident itself: the due time of its nearest open clock, filled in from the clocks,
and the index the list's 「按紧急程度排序」 pages on."""

import datetime

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import TruncMinute


def next_due_backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """One statement for every incident: the earliest due time of its pending or missed clocks."""
    Incident = apps.get_model("incidents", "Incident")
    Deadline = apps.get_model("incidents", "Deadline")
    nearest = Deadline.objects.filter(incident=OuterRef("pk"), status__in=["pending", "missed"]).order_by("due_at")
    Incident.objects.update(next_due_at=Subquery(nearest.values("due_at")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0012_report_receipt"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="next_due_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="最近时限"),
        ),
        migrations.RunPython(next_due_backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                models.F("organization"),
                models.Case(
                    models.When(state__in=["archived", "dismissed"], then=models.Value(1)),
                    default=models.Value(0),
                    output_field=models.IntegerField(),
                ),
                # Written out by hand: the migration writer cannot serialise a tzinfo.
                TruncMinute("next_due_at", tzinfo=datetime.UTC),
                name="incident_unit_urgency",
            ),
        ),
    ]
