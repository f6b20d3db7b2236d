import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from races import hkracing
from races.services.hkracing_import import HkracingImportRejected, hkracing_folder_import


class Command(BaseCommand):
    help = (
        "Import Hong Kong results from a folder holding races.csv and runs.csv. "
        "All or nothing; safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Folder with races.csv and runs.csv.")
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar, even on a terminal."
        )

    def handle(self, *args, directory: Path, no_progress: bool, **options) -> None:
        try:
            report = hkracing_folder_import(
                folder=directory, progress=not no_progress and sys.stderr.isatty()
            )
        except hkracing.FileMissing as exc:
            raise CommandError(str(exc)) from exc
        except HkracingImportRejected as exc:
            shown = "\n".join(f"  {error}" for error in exc.errors)
            more = exc.total - len(exc.errors)
            tail = f"\n  ... and {more} more" if more else ""
            raise CommandError(
                f"Nothing was imported: {exc.total} error{'s' * (exc.total != 1)} "
                f"in {directory}:\n{shown}{tail}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"Nothing was imported: a file is not UTF-8 text ({exc})") from exc
        for line in report.summary_lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Import finished."))
