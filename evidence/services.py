"""Keeping evidence (存证): attach a file to an incident, one of its reports or one of its posts, and
withdraw (撤回) an attachment with a reason. Nothing is ever deleted or replaced.

Each upload and each withdrawal is an entry of the incident's hash-chained record, written under the
incident's lock in the transaction that saves the row; the entry's details carry the file's SHA-256.
"""

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.content import Inspected, evidence_inspect, size_label
from evidence.models import Evidence, EvidenceWithdrawal
from incidents import events, policies
from incidents.models import Incident, Report
from incidents.services.locking import incident_lock, record_lock
from incidents.services.timeline import timeline_record
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError

EVIDENCE_ATTACHED = "evidence.attached"
EVIDENCE_WITHDRAWN = "evidence.withdrawn"
# The timeline's kinds are the incident app's (TimelineEntry.Kind); until it has one for evidence, an
# upload is recorded as what it adds to: the incident's information, a report or a post.
TIMELINE_KIND = {"incident": "edited", "report": "report", "mention": "mention"}
MAX_REASON = 1000


class _Hashing(File):  # type: ignore[type-arg]
    """The upload as the storage reads it, hashed on the way: the digest is of the bytes stored."""

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.digest = hashlib.sha256()

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        for chunk in super().chunks(chunk_size):
            self.digest.update(chunk)
            yield chunk


def _store(file: Any, inspected: Inspected) -> list[str]:
    """Write the original (byte for byte) and its thumbnail under random names; [original, thumbnail]."""
    token = secrets.token_hex(16)
    hashing = _Hashing(file)
    original = default_storage.save(f"evidence/{token[:2]}/{token}", hashing)
    stored = [original]
    if hashing.digest.hexdigest() != inspected.sha256:
        _discard(stored)
        raise DomainError(_("文件在上传过程中发生了变化，未保存，请重新上传。"), field="file")
    if inspected.thumbnail:
        name = f"evidence/thumbnails/{token[:2]}/{token}.{inspected.thumbnail_extension}"
        stored.append(default_storage.save(name, ContentFile(inspected.thumbnail)))
    return stored


def _discard(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _target(incident: Incident, report_id: int | None, mention_id: int | None) -> tuple[Report | None, Any]:
    """The report or post of this incident the file is for (neither: the incident itself)."""
    if report_id and mention_id:
        raise DomainError(_("证据只能附于一份报告或一条帖文。"), field="target")
    report = None
    if report_id:
        report = Report.objects.filter(pk=report_id, incident_id=incident.pk).first()
        if report is None:
            raise DomainError(_("本舆情没有这份报告。"), field="report")
    mention = None
    if mention_id:
        mention = incident.mentions.filter(pk=mention_id).first()  # type: ignore[attr-defined]
        if mention is None:
            raise DomainError(_("本舆情没有关联这条帖文。"), field="mention")
    return report, mention


def _duplicate(incident_id: int, sha256: str) -> Evidence | None:
    return (
        Evidence.objects.filter(incident_id=incident_id, sha256=sha256, withdrawal__isnull=True)
        .order_by("uploaded_at", "id")
        .first()
    )


def _refuse_duplicate(existing: Evidence) -> DomainError:
    return DomainError(
        _("同一文件（SHA-256 相同）已于 %(when)s 作为本舆情的证据上传（“%(name)s”），不再重复保存。")
        % {"when": timezone.localtime(existing.uploaded_at).strftime("%m-%d %H:%M"), "name": existing.original_name},
        field="file",
        code="duplicate",
    )


def _summary(evidence: Evidence, report: Report | None, mention: Any) -> str:
    described = {"name": evidence.original_name, "kind": evidence.get_kind_display(), "size": size_label(evidence.size)}
    if report is not None:
        return _("为报告（%(report)s · 向%(to)s报告）上传证据“%(name)s”（%(kind)s，%(size)s）") % {
            **described,
            "report": report.get_kind_display(),
            "to": report.reported_to,
        }
    if mention is not None:
        return _("为帖文（%(platform)s · %(text)s）上传证据“%(name)s”（%(kind)s，%(size)s）") % {
            **described,
            "platform": mention.get_platform_display(),
            "text": mention.text[:30],
        }
    return _("上传证据“%(name)s”（%(kind)s，%(size)s）") % described


@retry_on_conflict
def evidence_attach(
    *,
    incident_id: int,
    actor: Any,
    file: Any,
    description: str = "",
    report_id: int | None = None,
    mention_id: int | None = None,
) -> Evidence:
    """Keep `file` as evidence of the incident (or of one of its reports or posts).

    Guarantees: the file's type is judged by its content and must match its name and the allowed
    types; its size is within EVIDENCE_MAX_BYTES; the same file (same SHA-256) is not kept twice for
    one incident while the first is not withdrawn; the stored bytes are exactly the uploaded bytes and
    their SHA-256 is the one recorded and written into the incident's record. On any refusal nothing
    is left behind: no row, no entry, no stored file.
    """
    incident = Incident.objects.select_related("organization").filter(pk=incident_id).first()
    if incident is None:
        raise DomainError(_("舆情事件不存在。"), code="not_found")
    # Asked before the file is read, and again under the lock.
    policies.require("attach_evidence", actor, incident)
    _target(incident, report_id, mention_id)
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()[:255]
    inspected = evidence_inspect(file, name)
    description = (description or "").strip()
    if len(description) > 500:
        raise DomainError(_("说明不能超过 500 字。"), field="description")
    existing = _duplicate(incident.pk, inspected.sha256)
    if existing is not None:
        raise _refuse_duplicate(existing)
    stored = _store(file, inspected)
    try:
        with transaction.atomic():
            incident = incident_lock(incident_id)
            policies.require("attach_evidence", actor, incident)
            report, mention = _target(incident, report_id, mention_id)
            existing = _duplicate(incident.pk, inspected.sha256)
            if existing is not None:
                raise _refuse_duplicate(existing)
            evidence = Evidence.objects.create(
                incident=incident,
                report=report,
                mention=mention,
                original_name=name,
                description=description,
                kind=inspected.kind,
                content_type=inspected.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
                stored_name=stored[0],
                thumbnail_name=stored[1] if len(stored) > 1 else "",
                width=inspected.width,
                height=inspected.height,
                uploaded_by=actor,
                uploaded_at=timezone.now(),
            )
            timeline_record(
                incident=incident,
                kind=TIMELINE_KIND[evidence.target_kind],
                actor=actor,
                summary=_summary(evidence, report, mention),
                details={
                    "evidence_id": evidence.pk,
                    "sha256": evidence.sha256,
                    "size": evidence.size,
                    "content_type": evidence.content_type,
                    "original_name": evidence.original_name,
                    "report_id": evidence.report_id,
                    "mention_id": evidence.mention_id,
                },
            )
            events.publish(
                EVIDENCE_ATTACHED,
                {
                    "evidence_id": evidence.pk,
                    "incident_id": incident.pk,
                    "organization_id": incident.organization_id,
                    "sha256": evidence.sha256,
                },
            )
    except BaseException:
        _discard(stored)
        raise
    return evidence


@retry_on_conflict
def evidence_withdraw(*, evidence_id: int, actor: Any, reason: str) -> Evidence:
    """Withdraw (撤回) an attachment: it stays in the record, marked withdrawn with who, when and why,
    and the withdrawal joins the incident's hash-chained record. Withdrawn once, never undone."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤回理由。"), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("撤回理由不能超过 %(n)s 字。") % {"n": MAX_REASON}, field="reason")
    with transaction.atomic():
        incident, evidence = record_lock(Evidence, evidence_id, _("证据不存在。"))
        policies.require("withdraw_evidence", actor, incident, evidence)
        withdrawal = EvidenceWithdrawal.objects.create(
            evidence=evidence, reason=reason, withdrawn_by=actor, withdrawn_at=timezone.now()
        )
        evidence.withdrawal = withdrawal
        timeline_record(
            incident=incident,
            kind=TIMELINE_KIND[evidence.target_kind],
            actor=actor,
            summary=_("撤回证据“%(name)s”，理由：%(reason)s") % {"name": evidence.original_name, "reason": reason},
            details={"evidence_id": evidence.pk, "sha256": evidence.sha256, "reason": reason},
        )
        events.publish(
            EVIDENCE_WITHDRAWN,
            {
                "evidence_id": evidence.pk,
                "incident_id": incident.pk,
                "organization_id": incident.organization_id,
                "sha256": evidence.sha256,
            },
        )
    return evidence
