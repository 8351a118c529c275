"""Celery tasks of reports: thin wrappers that call a service."""

from celery import shared_task

from reports.services import report_schedules_sweep


@shared_task(ignore_result=True)
def sweep_report_schedules_task() -> int:
    """Beat: issue every scheduled 舆情日报/周报/月报 that is due (reports.services)."""
    return report_schedules_sweep()
