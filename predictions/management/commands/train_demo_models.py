import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from predictions import selectors, services

DEMO_ALGORITHMS = ("market", "logit", "lightgbm", "xgboost", "benter")


class Command(BaseCommand):
    help = (
        "For the embedded default: an active model of each algorithm trained on every result up "
        "to yesterday, and predictions for every declared race. Trains only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithms", nargs="+", default=list(DEMO_ALGORITHMS))

    def handle(self, *args, algorithms: list[str], **options) -> None:
        if not settings.DEBUG:
            raise CommandError("train_demo_models is for the local demo: set DJANGO_DEBUG=true")
        started = time.perf_counter()
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        try:
            versions = services.model_versions_ensure(
                algorithms_to_train=algorithms, train_until=yesterday, progress=self.stdout.write
            )
        except services.PredictionError as exc:
            raise CommandError(f"{exc} (run seed_demo first)") from exc
        report = services.predictions_refresh(race_ids=selectors.declared_race_ids())
        self.stdout.write(
            f"Active models: {', '.join(str(v) for v in versions)}; "
            f"{report.predictions} predictions for {report.races} declared races "
            f"({time.perf_counter() - started:.1f} s)."
        )
