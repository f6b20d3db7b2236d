from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.ml.algorithms import ALGORITHMS
from predictions.services.base import PredictionError
from predictions.services.versions import model_version_train_new

from ._options import iso_date, terminal_progress


class Command(BaseCommand):
    help = "Train a model version on settled races up to a date; prints the new version's id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithm", required=True, choices=sorted(ALGORITHMS))
        parser.add_argument("--train-until", required=True, type=iso_date, metavar="DATE")
        parser.add_argument("--train-from", type=iso_date, metavar="DATE")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--activate", action="store_true", help="Make it the active version.")

    def handle(self, *args, **options) -> None:
        try:
            version = model_version_train_new(
                algorithm=options["algorithm"],
                train_until=options["train_until"],
                train_from=options["train_from"],
                seed=options["seed"],
                activate=options["activate"],
                progress=terminal_progress(self),
            )
        except PredictionError as exc:
            raise CommandError(str(exc)) from exc
        training = version.metrics["training"]
        self.stderr.write(
            f"trained {version.algorithm} on {training['races']} races, "
            f"{training['runners']} runners ({training['first_day']} to {training['last_day']}) "
            f"in {training['seconds']} s" + ("; active" if options["activate"] else "")
        )
        self.stdout.write(str(version.pk))
