from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.ml.algorithms import ALGORITHMS
from predictions.services.base import PredictionError
from predictions.services.evaluation import backtest_run

from ._options import iso_date, terminal_progress


class Command(BaseCommand):
    help = (
        "Walk-forward backtest: for each season starting in the window, train on all races "
        "before it and score it beside the market."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--algorithm", required=True, choices=sorted(ALGORITHMS))
        parser.add_argument("--from", dest="date_from", required=True, type=iso_date)
        parser.add_argument("--to", dest="date_to", required=True, type=iso_date)

    def handle(self, *args, **options) -> None:
        try:
            seasons = backtest_run(
                algorithm=options["algorithm"],
                date_from=options["date_from"],
                date_to=options["date_to"],
                progress=terminal_progress(self),
            )
        except PredictionError as exc:
            raise CommandError(str(exc)) from exc
        if not seasons:
            raise CommandError("no season starts in the window (seasons break after 40 days off)")
        header = (
            f"{'season':>6} {'from':>10} {'to':>10} {'version':>7} {'races':>5} "
            f"{'LL':>6} {'mkt LL':>6} {'R2':>6} {'mkt R2':>6} {'dR2':>7} {'dR2 90% interval':>17} "
            f"{'top1':>5} {'fav1':>5} {'ROI top':>7} {'ROI val':>7}"
        )
        self.stdout.write(
            f"backtest of {options['algorithm']} (walk-forward, retrained per season)"
        )
        self.stdout.write(header)
        for row in seasons:
            m = row.metrics
            self.stdout.write(
                f"{row.season:>6} {row.date_from:%Y-%m-%d} {row.date_to:%Y-%m-%d} "
                f"{row.model_version:>7} {m['races']:>5} {m['log_loss']:>6.3f} "
                f"{m['market_log_loss']:>6.3f} {m['pseudo_r2']:>6.3f} "
                f"{m['market_pseudo_r2']:>6.3f} {m['delta_r2_vs_market']:>+7.4f} "
                f"{_interval(m.get('delta_r2_vs_market_ci')):>17} "
                f"{m['top1_accuracy']:>5.3f} {m['favourite_top1_accuracy']:>5.3f} "
                f"{_roi(m['returns']['top_pick']['roi']):>7} "
                f"{_roi(m['returns']['value']['roi']):>7}"
            )


def _interval(bounds: list[float] | None) -> str:
    return "–" if bounds is None else f"{bounds[0]:+.4f}..{bounds[1]:+.4f}"


def _roi(roi: float | None) -> str:
    """No bets (a version that chose no value margin), no return."""
    return "–" if roi is None else f"{roi:+.1%}"
