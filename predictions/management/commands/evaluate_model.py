import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from predictions.models import ModelVersion
from predictions.services.base import PredictionError
from predictions.services.evaluation import model_version_evaluate

from ._options import iso_date

SUMMARY = (
    ("races", "{:d}"),
    ("runners", "{:d}"),
    ("log_loss", "{:.4f}"),
    ("market_log_loss", "{:.4f}"),
    ("pseudo_r2", "{:.4f}"),
    ("market_pseudo_r2", "{:.4f}"),
    ("delta_r2_vs_market", "{:+.4f}"),
    ("delta_r2_vs_market_ci", "[{0[0]:+.4f}, {0[1]:+.4f}]"),
    ("delta_log_loss_vs_market", "{:+.4f}"),
    ("delta_log_loss_vs_market_ci", "[{0[0]:+.4f}, {0[1]:+.4f}]"),
    ("top1_accuracy", "{:.3f}"),
    ("favourite_top1_accuracy", "{:.3f}"),
    ("brier", "{:.4f}"),
)


class Command(BaseCommand):
    help = "Score a model version on settled races in a window, beside the betting market."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, type=int, metavar="ID")
        parser.add_argument("--from", dest="date_from", required=True, type=iso_date)
        parser.add_argument("--to", dest="date_to", required=True, type=iso_date)
        parser.add_argument(
            "--margin",
            type=float,
            help="Value bets need p x odds > 1 + margin (default: the version's own margin).",
        )
        parser.add_argument("--kelly", type=float, help="Also stake this fraction of Kelly.")
        parser.add_argument("--json", action="store_true", help="Print the metrics as JSON.")

    def handle(self, *args, **options) -> None:
        try:
            version = ModelVersion.objects.get(pk=options["model"])
        except ModelVersion.DoesNotExist:
            raise CommandError(f"no model version {options['model']}") from None
        try:
            metrics = model_version_evaluate(
                version=version,
                date_from=options["date_from"],
                date_to=options["date_to"],
                margin=options["margin"],
                kelly_fraction=options["kelly"],
            )
        except PredictionError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(metrics, indent=2))
            return
        self.stdout.write(
            f"{version} on {metrics['from']} to {metrics['to']} (trained to {version.train_until})"
        )
        for name, form in SUMMARY:
            value = "–" if metrics[name] is None else form.format(metrics[name])
            self.stdout.write(f"  {name:<30}{value}")
        self.stdout.write("  calibration (predicted vs observed win rate by decile):")
        for row in metrics["calibration"]:
            self.stdout.write(
                f"    {row['bin']:>2}  n={row['count']:<6} predicted {row['mean_predicted']:.3f}"
                f"  observed {row['observed_win_rate']:.3f}"
            )
        returns = metrics["returns"]
        margin = returns["value"]["margin"]
        self.stdout.write(
            "  flat win bets at the final price (decided and paid at the same odds); value bets "
            + ("none: no margin chosen" if margin is None else f"clear an edge of {margin:.0%}")
        )
        for label, key in (("top pick", "top_pick"), ("value bets", "value")):
            r = returns[key]
            roi = "–" if r["roi"] is None else f"{r['roi']:+.1%}"
            self.stdout.write(
                f"    {label:<11}{r['bets']:>6} bets, profit {r['profit']:+.2f}, ROI {roi}"
            )
        if returns.get("kelly"):
            k = returns["kelly"]
            self.stdout.write(
                f"  fractional Kelly ({options['kelly']}): {k['bets']} bets, "
                f"bankroll 1.00 -> {k['final_bankroll']:.3f}"
            )
