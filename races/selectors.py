"""Reads that span the race data's relations."""

from __future__ import annotations

from typing import Any

from .models import ProviderSync
from .providers.registry import PROVIDER_NAMES, provider_is_configured


def providers_status() -> list[dict[str, Any]]:
    """Each provider HRP knows, whether this deployment has it configured, and its last sync."""
    statuses = []
    for name in PROVIDER_NAMES:
        last = ProviderSync.objects.filter(provider=name).order_by("-started_at", "-pk").first()
        statuses.append(
            {
                "provider": name,
                "configured": provider_is_configured(name),
                "last_sync": None
                if last is None
                else {
                    "day": last.day,
                    "status": last.status,
                    "started_at": last.started_at,
                    "finished_at": last.finished_at,
                    "counts": last.counts,
                    "error": last.error,
                },
            }
        )
    return statuses
