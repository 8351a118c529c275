"""The drill sweeper as a Celery task, ticked by beat (every 10 s: a ×60 drill's post at drill
minute 20 appears within 10 s of its moment)."""

from typing import Any

from celery import shared_task

from drills.services import drills_sweep


@shared_task(ignore_result=True)
def sweep_drills_task() -> dict[str, Any]:
    return drills_sweep()
