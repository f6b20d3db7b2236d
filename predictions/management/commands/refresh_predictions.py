from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.services.base import PredictionError
from predictions.services.refresh import (
    predictions_refresh,
    predictions_refresh_range,
    race_ids_to_refresh,
)
from races.models import Race

from ._options import iso_date


class Command(BaseCommand):
    help = (
        "Store every model's predictions for a day's races, one race, every race in a date "
        "range (--from/--to, a chunk of days at a time), or (by default) every declared race "
        "from today on. Past races get walk-forward versions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--date", type=iso_date, metavar="DATE")
        target.add_argument("--race", type=int, metavar="ID")
        parser.add_argument("--from", dest="date_from", type=iso_date, metavar="DATE")
        parser.add_argument("--to", dest="date_to", type=iso_date, metavar="DATE")
        parser.add_argument(
            "--chunk-days",
            type=int,
            default=31,
            metavar="DAYS",
            help="With --from/--to: how many days of races to refresh at once (default 31).",
        )

    def handle(
        self, *args, date=None, race=None, date_from=None, date_to=None, chunk_days=31, **options
    ) -> None:
        if date_from is not None or date_to is not None:
            if date is not None or race is not None:
                raise CommandError("--from/--to cannot be combined with --date or --race")
            if date_from is None or date_to is None:
                raise CommandError("--from and --to go together")
            try:
                report = predictions_refresh_range(
                    date_from=date_from,
                    date_to=date_to,
                    chunk_days=chunk_days,
                    progress=self.stdout.write,
                )
            except PredictionError as exc:
                raise CommandError(str(exc)) from exc
            if not report.races and not report.skipped:
                raise CommandError(f"no races between {date_from} and {date_to}")
        else:
            report = predictions_refresh(race_ids=self._race_ids(date, race))
        self.stdout.write(
            f"{report.predictions} predictions for {report.races} races "
            f"from model versions {sorted(report.versions) or 'none'}"
        )
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")

    def _race_ids(self, date, race) -> list[int]:
        if race is not None:
            if not Race.objects.filter(pk=race).exists():
                raise CommandError(f"no race {race}")
            race_ids = [race]
        else:
            race_ids = race_ids_to_refresh(day=date)
        if not race_ids:
            raise CommandError("no races to refresh")
        return race_ids
