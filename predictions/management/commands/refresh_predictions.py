from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions import selectors, services
from races.models import Race

from ._options import iso_date


class Command(BaseCommand):
    help = (
        "Store every model's predictions for a day's races, one race, or (by default) every "
        "declared race from today on. Past races get walk-forward versions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--date", type=iso_date, metavar="DATE")
        target.add_argument("--race", type=int, metavar="ID")

    def handle(self, *args, date=None, race=None, **options) -> None:
        if race is not None:
            if not Race.objects.filter(pk=race).exists():
                raise CommandError(f"no race {race}")
            race_ids = [race]
        elif date is not None:
            race_ids = list(Race.objects.filter(meeting_date=date).values_list("pk", flat=True))
        else:
            race_ids = selectors.declared_race_ids()
        if not race_ids:
            raise CommandError("no races to refresh")
        report = services.predictions_refresh(race_ids=race_ids)
        self.stdout.write(
            f"{report.predictions} predictions for {report.races} races "
            f"from model versions {sorted(report.versions) or 'none'}"
        )
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")
