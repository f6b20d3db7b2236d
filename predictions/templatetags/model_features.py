"""Display helpers for predictions: readable names for the model's features."""

from __future__ import annotations

import math

from django import template

register = template.Library()

# Readable names for the model's features (predictions.ml.features.FEATURE_COLUMNS) and for the
# market's term in the combined model.
FEATURE_LABELS = {
    "market": "Market odds",
    "win_odds": "Market odds",
    "field_size": "Field size",
    "race_class": "Race class",
    "race_par": "Class par time",
    "distance_m": "Distance",
    "draw": "Draw",
    "draw_pct": "Draw position in field",
    "carried_weight_lb": "Weight carried",
    "declared_weight_lb": "Body weight",
    "rating": "Rating",
    "rating_placeholder_share": "Share of the field on the default rating",
    "age": "Age",
    "h_runs": "Horse's runs",
    "h_wins": "Horse's wins",
    "h_places": "Horse's places",
    "h_win_rate": "Horse's win rate",
    "h_place_rate": "Horse's place rate",
    "h_runs_365": "Horse's runs, last year",
    "h_pos_last": "Last finishing position",
    "h_pos_mean3": "Average position, last 3 runs",
    "h_pos_mean5": "Average position, last 5 runs",
    "h_pos_best5": "Best position, last 5 runs",
    "h_pos_ewm10": "Recent positions (weighted)",
    "h_lengths_last": "Lengths beaten last time",
    "h_lengths_mean3": "Lengths beaten, last 3 runs",
    "h_days_since": "Days since last run",
    "h_days_since_win": "Days since last win",
    "h_runs_since_win": "Runs since last win",
    "h_rating_change": "Rating change",
    "h_declared_weight_change": "Body weight change",
    "h_carried_weight_change": "Weight carried change",
    "h_class_change": "Class change",
    "h_distance_change": "Distance change",
    "h_dist_runs": "Runs at the distance",
    "h_dist_win_rate": "Win rate at the distance",
    "h_dist_place_rate": "Place rate at the distance",
    "h_going_runs": "Runs on the going",
    "h_going_place_rate": "Place rate on the going",
    "h_course_runs": "Runs at the course",
    "h_course_place_rate": "Place rate at the course",
    "h_fig_last": "Speed figure last time",
    "h_fig_best5": "Best speed figure, last 5 runs",
    "h_fig_mean3": "Average speed figure, last 3 runs",
    "h_fig_mean5": "Average speed figure, last 5 runs",
    "h_fig_ewm10": "Recent speed figures (weighted)",
    "h_fig_best5_vs_par": "Best speed figure against class par",
    "h_fig_mean3_vs_par": "Average speed figure against class par",
    "h_fig_at_weight_best5": "Best speed figure at today's weight, last 5 runs",
    "h_fig_at_weight_mean3": "Average speed figure at today's weight, last 3 runs",
    "h_fig_at_weight_ewm10": "Recent speed figures at today's weight (weighted)",
    "h_early_pos_mean5": "Early position in running",
    "h_late_pos_mean5": "Late position in running",
    "h_jockey_change": "Jockey change",
    "h_jockey_rate_change": "Jockey change (win rate)",
    "j_rides": "Jockey's rides",
    "j_win_rate": "Jockey's win rate",
    "j_rides_365": "Jockey's rides, last year",
    "j_win_rate_365": "Jockey's win rate, last year",
    "j_place_rate_365": "Jockey's place rate, last year",
    "j_win_rate_60": "Jockey's win rate, last 60 days",
    "t_runs": "Trainer's runners",
    "t_win_rate": "Trainer's win rate",
    "t_runs_365": "Trainer's runners, last year",
    "t_win_rate_365": "Trainer's win rate, last year",
    "t_place_rate_365": "Trainer's place rate, last year",
    "t_win_rate_60": "Trainer's win rate, last 60 days",
    "jt_runs": "Jockey and trainer's runs together",
    "jt_win_rate": "Jockey and trainer's win rate together",
    "draw_win_ae": "Draw bias (wins)",
    "draw_place_ae": "Draw bias (places)",
}


@register.filter
def feature_label(name: str) -> str:
    """A readable name for a feature: "h_win_rate_rel" -> "Horse's win rate against the field"."""
    for suffix, words in (("_rel", " against the field"), ("_rank", ", rank in the field")):
        if name.endswith(suffix) and name.removesuffix(suffix) in FEATURE_LABELS:
            return FEATURE_LABELS[name.removesuffix(suffix)] + words
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    return name.replace("_", " ").capitalize()


@register.filter
def score_effect(contribution: float) -> str:
    """A factor's contribution to the within-race score in plain words: the score is a log
    weight, so +0.41 multiplies the horse's weight against the field by e^0.41 = 1.5."""
    factor = math.exp(float(contribution))
    if abs(factor - 1) < 0.005:
        return "makes no difference (×1.00)"
    direction = "raises" if factor > 1 else "lowers"
    return f"{direction} its chance (×{factor:.2f})"
