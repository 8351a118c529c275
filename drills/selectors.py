"""Reads of 应急演练, always within one unit: a scenario or drill of another unit is "not found"."""

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from drills.models import Drill, Scenario
from incidents.models import EmergencyPlan
from opinion_ops.db import compiled


def scenarios_of_unit(organization_id: int) -> QuerySet[Scenario]:
    return Scenario.objects.filter(organization_id=organization_id).select_related("created_by")


def scenario_get(organization_id: int, pk: int) -> Scenario:
    scenario = Scenario.objects.filter(organization_id=organization_id, pk=pk).prefetch_related("posts").first()
    if scenario is None:
        raise Http404(_("演练脚本不存在。"))
    return scenario


def drills_of_unit(organization_id: int) -> QuerySet[Drill]:
    return Drill.objects.filter(organization_id=organization_id).select_related("scenario", "incident", "scheduled_by")


def drill_get(organization_id: int, pk: int) -> Drill:
    drill = drills_of_unit(organization_id).filter(pk=pk).first()
    if drill is None:
        raise Http404(_("应急演练不存在。"))
    return drill


@compiled
def _drill_facts(organization_id: int) -> QuerySet[EmergencyPlan, dict[str, Any]]:
    """The active plan's drill interval, with its unit's last finished and next scheduled drills."""
    finished = Drill.objects.filter(organization_id=OuterRef("organization_id"), status=Drill.Status.FINISHED)
    scheduled = Drill.objects.filter(organization_id=OuterRef("organization_id"), status=Drill.Status.SCHEDULED)
    return (
        EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE)
        .annotate(
            last_finished_at=Subquery(finished.order_by("-finished_at").values("finished_at")[:1]),
            last_drill_id=Subquery(finished.order_by("-finished_at").values("pk")[:1]),
            next_drill_id=Subquery(scheduled.order_by("starts_at").values("pk")[:1]),
            next_starts_at=Subquery(scheduled.order_by("starts_at").values("starts_at")[:1]),
        )
        .values("drill_interval_months", "last_finished_at", "last_drill_id", "next_drill_id", "next_starts_at")
        .order_by("pk")[:1]
    )


def drill_due(organization_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """When the unit's next drill is due under its active plan (every N months from the last
    finished drill; at once if none has finished) and the next one scheduled, in one query.
    None when the plan sets no drill interval."""
    now = now or timezone.now()
    found = _drill_facts(organization_id)
    row = found[0] if found else None
    if row is None or not row["drill_interval_months"]:
        return None
    months = row["drill_interval_months"]
    last = row["last_finished_at"]
    due_at = last + relativedelta(months=months) if last else None
    return {
        "months": months,
        "last_finished_at": last,
        "last_drill_id": row["last_drill_id"],
        "due_at": due_at,
        "overdue": due_at is None or due_at <= now,
        "next_drill_id": row["next_drill_id"],
        "next_starts_at": row["next_starts_at"],
        # Scheduled in time when the next drill starts no later than the due date.
        "next_in_time": row["next_starts_at"] is not None and (due_at is None or row["next_starts_at"] <= due_at),
    }
