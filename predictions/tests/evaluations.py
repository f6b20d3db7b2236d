"""Stored evaluations as `services.model_version_evaluate` writes them, with round figures."""

import datetime


def stored_evaluation(
    *,
    algorithm: str,
    date_from: datetime.date,
    date_to: datetime.date,
    log_loss: float,
    market_log_loss: float,
    model_version: int = 0,
    sources: tuple[str, ...] = ("demo",),
    interval: tuple[float, float] | None = None,
) -> dict:
    """`interval`: the bootstrap interval of log loss minus the market's; by default 0.01 either
    side of the difference."""
    uniform = 2.5
    difference = log_loss - market_log_loss
    low, high = interval or (difference - 0.01, difference + 0.01)
    intervals = {
        "delta_log_loss_vs_market": difference,
        "delta_log_loss_vs_market_ci": [low, high],
        "delta_r2_vs_market_ci": [-high / uniform, -low / uniform],
    }
    days = [date_from.isoformat(), date_to.isoformat()]
    return {
        "model_version": model_version,
        "algorithm": algorithm,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "sources": list(sources),
        "races": 40,
        "runners": 480,
        "log_loss": log_loss,
        "market_log_loss": market_log_loss,
        "uniform_log_loss": uniform,
        "pseudo_r2": 1 - log_loss / uniform,
        "market_pseudo_r2": 1 - market_log_loss / uniform,
        "delta_r2_vs_market": (market_log_loss - log_loss) / uniform,
        **intervals,
        "top1_accuracy": 0.325,
        "favourite_top1_accuracy": 0.3,
        "brier": 0.8,
        "calibration": [
            {
                "bin": 1,
                "count": 240,
                "lower": 0.01,
                "upper": 0.05,
                "mean_predicted": 0.03,
                "observed_win_rate": 0.025,
            },
            {
                "bin": 2,
                "count": 240,
                "lower": 0.05,
                "upper": 0.6,
                "mean_predicted": 0.14,
                "observed_win_rate": 0.1417,
            },
        ],
        "returns": {
            "top_pick": {
                "bets": 40,
                "staked": 40.0,
                "returned": 38.0,
                "profit": -2.0,
                "roi": -0.05,
                "by_day": [
                    {"day": days[0], "bets": 20, "staked": 20.0, "returned": 21.0,
                     "profit": 1.0, "cumulative_profit": 1.0},
                    {"day": days[1], "bets": 20, "staked": 20.0, "returned": 17.0,
                     "profit": -3.0, "cumulative_profit": -2.0},
                ],
            },
            "value": {
                "bets": 60,
                "staked": 60.0,
                "returned": 66.0,
                "profit": 6.0,
                "roi": 0.1,
                "margin": 0.0,
                "by_day": [
                    {"day": days[0], "bets": 25, "staked": 25.0, "returned": 20.0,
                     "profit": -5.0, "cumulative_profit": -5.0},
                    {"day": days[1], "bets": 35, "staked": 35.0, "returned": 46.0,
                     "profit": 11.0, "cumulative_profit": 6.0},
                ],
            },
            "kelly": None,
        },
    }  # fmt: skip
