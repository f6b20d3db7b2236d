from predictions.ml.features import FEATURE_COLUMNS
from predictions.templatetags.model_features import FEATURE_LABELS, feature_label


def test_every_model_feature_has_a_readable_label():
    unlabelled = [
        name
        for name in FEATURE_COLUMNS
        if name.removesuffix("_rel").removesuffix("_rank") not in FEATURE_LABELS
    ]

    assert unlabelled == []
    assert all("_" not in feature_label(name) for name in FEATURE_COLUMNS)


def test_relative_features_say_what_they_compare():
    assert feature_label("h_win_rate_rel") == "Horse's win rate against the field"
    assert feature_label("rating_rank") == "Rating, rank in the field"
    assert feature_label("something_new") == "Something new"
