"""Evidence is append-only: the database refuses UPDATE, DELETE and TRUNCATE of attachments and of
their withdrawals (opinion_ops.append_only); a withdrawal is a row of its own."""

from django.db import migrations

from opinion_ops.append_only import append_only_operations


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [
        migrations.RunPython(*append_only_operations("evidence_evidence")),
        migrations.RunPython(*append_only_operations("evidence_evidencewithdrawal")),
    ]
