"""What other apps show above the 研判 (assessment) form: an incident's clusters, heat and risk, a
suggested warning level with its reason. incidents imports none of them: a capability app registers
its aid in its AppConfig.ready(); the assessment form shows what the registered aids give.

An aid is `fn(incident) -> dict | None` and the partial template that draws its dict (as `aid`).
The dict may carry `suggested_level_id`: the level the form preselects (the analyst decides). An aid
that fails is logged and left out; the form is shown without it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incidents.models import Incident

logger = logging.getLogger(__name__)

AidContext = Callable[[Incident], dict[str, Any] | None]


@dataclass(frozen=True)
class AssessmentAid:
    template: str
    context: AidContext


_aids: dict[str, AssessmentAid] = {}


def aid_register(fn: AidContext, template: str) -> None:
    """Show `template` with `fn(incident)` above the assessment form (registered once per function)."""
    _aids[f"{fn.__module__}.{fn.__qualname__}"] = AssessmentAid(template, fn)


def aids_collect(incident: Incident) -> list[dict[str, Any]]:
    """[{"template": …, "aid": {…}}] of every registered aid that has something to show."""
    shown = []
    for name, aid in sorted(_aids.items()):
        try:
            context = aid.context(incident)
        except Exception:  # contained: the form is still shown
            logger.exception("assessment aid %s failed for incident %s", name, incident.pk)
            continue
        if context is not None:
            shown.append({"template": aid.template, "aid": context})
    return shown


def suggested_level_id(aids: list[dict[str, Any]]) -> int | None:
    """The first level an aid suggests (None: no suggestion)."""
    for shown in aids:
        level_id = shown["aid"].get("suggested_level_id")
        if level_id:
            return int(level_id)
    return None
