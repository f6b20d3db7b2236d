"""The Hong Kong results as a file provider: races.csv and runs.csv in a folder, imported whole."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Provider, ProviderError, RaceCard

if TYPE_CHECKING:
    from races.services import HkracingImportReport


class HkracingFileProvider(Provider):
    """The files hold every race: a sync imports them all, idempotently, whatever the day."""

    name = "hkracing"

    def __init__(self, *, folder: str | Path) -> None:
        self.folder = Path(folder)

    def racecards(self, day: datetime.date) -> list[RaceCard]:
        return []

    def file_import(self) -> HkracingImportReport:
        from races.services import hkracing_import  # the services import the providers

        races_path, runs_path = self.folder / "races.csv", self.folder / "runs.csv"
        for path in (races_path, runs_path):
            if not path.is_file():
                raise ProviderError(f"{self.name}: no file at {path}")
        with (
            races_path.open(encoding="utf-8-sig", newline="") as races_file,
            runs_path.open(encoding="utf-8-sig", newline="") as runs_file,
        ):
            return hkracing_import(races_file=races_file, runs_file=runs_file)
