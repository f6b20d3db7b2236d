"""Which providers this deployment uses: HRP_PROVIDERS, and each one's URL and credentials."""

from __future__ import annotations

from django.conf import settings

from .base import Provider
from .betfair import BetfairProvider
from .hkcsv import HkracingFileProvider
from .theracingapi import TheRacingApiProvider

PROVIDER_NAMES = (TheRacingApiProvider.name, BetfairProvider.name, HkracingFileProvider.name)


# Each provider's client options and the setting (environment variable) that gives each one.
SETTINGS = {
    "theracingapi": {
        "base_url": "THERACINGAPI_URL",
        "username": "THERACINGAPI_USERNAME",
        "password": "THERACINGAPI_PASSWORD",
    },
    "betfair": {
        "base_url": "BETFAIR_URL",
        "app_key": "BETFAIR_APP_KEY",
        "session_token": "BETFAIR_SESSION_TOKEN",
    },
    "hkracing": {"folder": "HKRACING_DIR"},
}


class ProviderNotConfigured(Exception):
    """The provider is unknown, not enabled in HRP_PROVIDERS, or lacks its URL or credentials.

    `missing` names what to set, e.g. ["HRP_PROVIDERS (add 'betfair')", "BETFAIR_APP_KEY"].
    """

    def __init__(self, provider: str, missing: list[str]) -> None:
        self.provider = provider
        self.missing = missing
        super().__init__(f"provider {provider!r} is not configured: missing {', '.join(missing)}")


def _options() -> dict[str, dict[str, str]]:
    return {
        name: {option: getattr(settings, setting) for option, setting in options.items()}
        for name, options in SETTINGS.items()
    }


def provider_missing_settings(name: str) -> list[str]:
    """What this deployment lacks to use the provider; empty when it is configured."""
    if name not in SETTINGS:
        return [f"a provider named {name!r} (known: {', '.join(PROVIDER_NAMES)})"]
    missing = [] if name in settings.HRP_PROVIDERS else [f"HRP_PROVIDERS (add {name!r})"]
    return missing + [
        setting for setting in SETTINGS[name].values() if not getattr(settings, setting)
    ]


def provider_is_configured(name: str) -> bool:
    return not provider_missing_settings(name)


def providers_configured() -> list[str]:
    return [name for name in PROVIDER_NAMES if provider_is_configured(name)]


def provider_get(name: str) -> Provider:
    missing = provider_missing_settings(name)
    if missing:
        raise ProviderNotConfigured(name, missing)
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
