import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from predictions import selectors
from predictions.models import ModelVersion
from predictions.services.base import PredictionError
from predictions.services.holdout import model_versions_holdout_ensure
from predictions.services.refresh import predictions_refresh
from predictions.services.versions import model_versions_ensure

HOLDOUT_DAYS = 28


class Command(BaseCommand):
    help = (
        "For the embedded default: an active model of each algorithm trained on every result up "
        "to yesterday, and predictions for every declared race; and a held-out model of each "
        "trained on the results before the last four weeks, scored on those weeks beside the "
        "market, which also gives those races walk-forward predictions. Trains only what is "
        "missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithms", nargs="+", default=list(ModelVersion.Algorithm.values))
        parser.add_argument(
            "--holdout-days",
            type=int,
            default=HOLDOUT_DAYS,
            help="Days before today the held-out models never see (0: no held-out models).",
        )

    def handle(self, *args, algorithms: list[str], holdout_days: int, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("train_demo_models is for the local demo: set DJANGO_DEBUG=true")
        started = time.perf_counter()
        today = timezone.localdate()
        yesterday = today - datetime.timedelta(days=1)
        try:
            versions = model_versions_ensure(
                algorithms_to_train=algorithms, train_until=yesterday, progress=self.stdout.write
            )
        except PredictionError as exc:
            raise CommandError(f"{exc} (run seed_demo first)") from exc
        report = predictions_refresh(race_ids=selectors.declared_race_ids())
        self.stdout.write(
            f"Active models: {', '.join(str(v) for v in versions)}; "
            f"{report.predictions} predictions for {report.races} declared races "
            f"({time.perf_counter() - started:.1f} s)."
        )
        if holdout_days <= 0:
            return
        try:
            holdout = model_versions_holdout_ensure(
                algorithms_to_use=algorithms,
                train_until=today - datetime.timedelta(days=holdout_days + 1),
                date_to=yesterday,
                progress=self.stdout.write,
            )
        except PredictionError as exc:
            raise CommandError(f"held-out models: {exc}") from exc
        self.stdout.write(
            f"Held-out models: {', '.join(str(v) for v in holdout.versions)}, scored on "
            f"{holdout.date_from} to {holdout.date_to}; {holdout.refresh.predictions} "
            f"walk-forward predictions for {holdout.refresh.races} past races "
            f"({time.perf_counter() - started:.1f} s in all)."
        )
