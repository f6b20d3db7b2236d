"""Which providers this deployment uses: HRP_PROVIDERS, and each one's URL and credentials."""

from __future__ import annotations

from django.conf import settings

from .base import Provider
from .betfair import BetfairProvider
from .hkcsv import HkracingFileProvider
from .theracingapi import TheRacingApiProvider

PROVIDER_NAMES = (TheRacingApiProvider.name, BetfairProvider.name, HkracingFileProvider.name)


class ProviderNotConfigured(Exception):
    """The provider is unknown, not enabled in HRP_PROVIDERS, or lacks its URL or credentials."""


def _options() -> dict[str, dict[str, str]]:
    return {
        "theracingapi": {
            "base_url": settings.THERACINGAPI_URL,
            "username": settings.THERACINGAPI_USERNAME,
            "password": settings.THERACINGAPI_PASSWORD,
        },
        "betfair": {
            "base_url": settings.BETFAIR_URL,
            "app_key": settings.BETFAIR_APP_KEY,
            "session_token": settings.BETFAIR_SESSION_TOKEN,
        },
        "hkracing": {"folder": settings.HKRACING_DIR},
    }


def provider_is_configured(name: str) -> bool:
    options = _options().get(name)
    return bool(options) and name in settings.HRP_PROVIDERS and all(options.values())


def providers_configured() -> list[str]:
    return [name for name in PROVIDER_NAMES if provider_is_configured(name)]


def provider_get(name: str) -> Provider:
    if not provider_is_configured(name):
        raise ProviderNotConfigured(f"provider {name!r} is not configured")
    options = _options()[name]
    if name == HkracingFileProvider.name:
        return HkracingFileProvider(**options)
    client_options = {
        "timeout": settings.PROVIDER_HTTP_TIMEOUT,
        "retries": settings.PROVIDER_HTTP_RETRIES,
    }
    if name == BetfairProvider.name:
        return BetfairProvider(**options, **client_options)
    return TheRacingApiProvider(**options, **client_options)
