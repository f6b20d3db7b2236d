"""Celery tasks: thin wrappers that call one service and return something small."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .services import expired_tokens_delete, horse_alerts_send

# A mail server or database that is briefly away is worth another try; the alerts already sent
# are recorded, so a retry sends only the rest.
ALERT_TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)


@shared_task(
    autoretry_for=ALERT_TRANSIENT,
    retry_backoff=60,
    max_retries=3,
    ignore_result=True,
    soft_time_limit=4 * 60,
    time_limit=5 * 60,
)
def send_horse_alerts_task() -> int:
    """E-mail the followed horses' declarations and results that are due, each once (after a
    provider sync or an import, and the beat's sweep); returns how many were sent."""
    return horse_alerts_send()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def expired_tokens_delete_task() -> int:
    """Delete every expired API token; safe to re-run (the second run finds none)."""
    return expired_tokens_delete()
