"""The tamper-evident record, step 2 of 3 (data): chain the timeline recorded so far, and seal the
decisions taken so far as approvals.

The old trigger (0002) refused every UPDATE of the timeline, so it is dropped first; 0009 installs
the new triggers (UPDATE, DELETE and TRUNCATE refused) once the chain fields are filled. Each
incident's entries are numbered 1, 2, 3 … in (recorded_at, id) order and hashed as
incidents.models.chain describes. Statement decisions and report sign-offs recorded before this
migration become Approval rows with no timeline entry: they attest what the record said when it
was sealed, and the verifier holds the pages' fields to them from then on.
"""

from django.db import migrations

from incidents.models.chain import GENESIS, approval_digest, entry_digest, report_content_sha256, text_sha256

OLD_TRIGGER_DROP = """
DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineentry;
DROP FUNCTION IF EXISTS incidents_timeline_append_only();
"""
OLD_TRIGGER_CREATE = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incidents_timelineentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timeline_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineentry
    FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""


def drop_old_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_TRIGGER_DROP)


def restore_old_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_TRIGGER_CREATE)


def chain_timeline(apps, schema_editor):
    entry_model = apps.get_model("incidents", "TimelineEntry")
    incident_ids = (
        entry_model.objects.filter(seq__isnull=True).values_list("incident_id", flat=True).distinct().order_by()
    )
    for incident_id in list(incident_ids):
        entries = list(entry_model.objects.filter(incident_id=incident_id).order_by("recorded_at", "id"))
        prev = GENESIS
        for seq, entry in enumerate(entries, start=1):
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = entry_digest(
                incident_id=entry.incident_id,
                seq=seq,
                kind=entry.kind,
                actor_id=entry.actor_id,
                recorded_at=entry.recorded_at,
                occurred_at=entry.occurred_at,
                from_state=entry.from_state,
                to_state=entry.to_state,
                summary=entry.summary,
                details=entry.details,
                prev_hash=prev,
            )
            prev = entry.hash
        entry_model.objects.bulk_update(entries, ["seq", "prev_hash", "hash"], batch_size=500)


def _seal(approval_model, **fields):
    approval = approval_model(**fields)
    approval.hash = approval_digest(
        incident_id=approval.incident_id,
        decision=approval.decision,
        statement_version_id=approval.statement_version_id,
        report_id=approval.report_id,
        version_number=approval.version_number,
        content_sha256=approval.content_sha256,
        actor_id=approval.actor_id,
        decided_at=approval.decided_at,
        comment=approval.comment,
    )
    return approval


def seal_decisions(apps, schema_editor):
    approval_model = apps.get_model("incidents", "Approval")
    version_model = apps.get_model("incidents", "StatementVersion")
    report_model = apps.get_model("incidents", "Report")
    sealed = []
    versions = (
        version_model.objects.exclude(decision="")
        .filter(decided_by__isnull=False, decided_at__isnull=False)
        .select_related("statement")
        .order_by("id")
    )
    for version in versions:
        sealed.append(
            _seal(
                approval_model,
                incident_id=version.statement.incident_id,
                decision=version.decision,
                statement_version_id=version.pk,
                version_number=version.number,
                content_sha256=text_sha256(version.text),
                actor_id=version.decided_by_id,
                decided_at=version.decided_at,
                comment=version.decision_comment,
            )
        )
    for report in report_model.objects.filter(signed_off_by__isnull=False, signed_off_at__isnull=False).order_by("id"):
        sealed.append(
            _seal(
                approval_model,
                incident_id=report.incident_id,
                decision="signed_off",
                report_id=report.pk,
                content_sha256=report_content_sha256(report),
                actor_id=report.signed_off_by_id,
                decided_at=report.signed_off_at,
                comment="",
            )
        )
    approval_model.objects.bulk_create(sealed, batch_size=500)


def unseal_decisions(apps, schema_editor):
    apps.get_model("incidents", "Approval").objects.filter(entry__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_record_chain_schema")]

    operations = [
        migrations.RunPython(drop_old_trigger, restore_old_trigger),
        migrations.RunPython(chain_timeline, migrations.RunPython.noop),
        migrations.RunPython(seal_decisions, unseal_decisions),
    ]
