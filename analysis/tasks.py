"""Celery tasks of analysis: thin wrappers that call a service (matched posts are analysed by the
hook in monitoring's matching task; this sweeper catches what it missed)."""

from celery import shared_task

from analysis.services import posts_analyse_due


@shared_task(ignore_result=True)
def sweep_analysis_task() -> int:
    """Beat: cluster and score matched or incident posts that were not analysed yet."""
    return posts_analyse_due()
