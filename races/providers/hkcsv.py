"""The Hong Kong results as a file provider: races.csv and runs.csv in a folder, imported whole."""

from __future__ import annotations

import datetime
from pathlib import Path

from races import hkracing
from races.services.hkracing_import import HkracingImportReport, hkracing_folder_import

from .base import Provider, ProviderError, RaceCard


class HkracingFileProvider(Provider):
    """The files hold every race: a sync imports them all, idempotently, whatever the day."""

    name = "hkracing"

    def __init__(self, *, folder: str | Path) -> None:
        self.folder = Path(folder)

    def racecards(self, day: datetime.date) -> list[RaceCard]:
        return []

    def file_import(self) -> HkracingImportReport:
        try:
            return hkracing_folder_import(folder=self.folder)
        except hkracing.FileMissing as exc:
            raise ProviderError(f"{self.name}: no file at {exc.path}") from exc
