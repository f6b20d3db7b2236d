"""Celery tasks: thin wrappers that call one service and return something small."""

from celery import shared_task

from .services import expired_tokens_delete


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def expired_tokens_delete_task() -> int:
    """Delete every expired API token; safe to re-run (the second run finds none)."""
    return expired_tokens_delete()
