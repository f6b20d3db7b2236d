import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from races.services import HkracingImportRejected, hkracing_import


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
        paths = {name: directory / name for name in ("races.csv", "runs.csv")}
        for path in paths.values():
            if not path.is_file():
                raise CommandError(f"{path} does not exist or is not a file")
        with (
            paths["races.csv"].open(encoding="utf-8", newline="") as races_file,
            paths["runs.csv"].open(encoding="utf-8", newline="") as runs_file,
        ):
            try:
                report = hkracing_import(
                    races_file=races_file,
                    runs_file=runs_file,
                    races_name=str(paths["races.csv"]),
                    runs_name=str(paths["runs.csv"]),
                    progress=not no_progress and sys.stderr.isatty(),
                )
            except HkracingImportRejected as exc:
                shown = "\n".join(f"  {error}" for error in exc.errors)
                more = exc.total - len(exc.errors)
                tail = f"\n  ... and {more} more" if more else ""
                raise CommandError(
                    f"Nothing was imported: {exc.total} error{'s' * (exc.total != 1)} "
                    f"in {directory}:\n{shown}{tail}"
                ) from exc
            except UnicodeDecodeError as exc:
                raise CommandError(
                    f"Nothing was imported: a file is not UTF-8 text ({exc})"
                ) from exc
        for line in report.summary_lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Import finished."))
