import datetime
import hashlib
import math
import statistics
from collections import Counter

import numpy as np
import pytest

from predictions import selectors
from predictions.ml import features
from predictions.ml.algorithms import ALGORITHMS
from predictions.ml.evaluation import VALUE_MARGINS
from predictions.models import ModelArtifact, ModelVersion, Prediction
from predictions.services import evaluation, refresh, versions
from predictions.services.artifacts import model_artifact_store, model_version_load
from predictions.services.base import PredictionError
from predictions.services.holdout import model_versions_holdout_ensure
from races.demo import demo_data_seed
from races.models import Race, Runner
from races.place_terms import race_place_terms

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 20)
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def demo_races():
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)


def trained(algorithm: str = "logit", until: datetime.date = YESTERDAY, **kwargs) -> ModelVersion:
    return versions.model_version_train_new(algorithm=algorithm, train_until=until, **kwargs)


def declared_ids() -> list[int]:
    return list(Race.objects.filter(status="declared").values_list("pk", flat=True))


def test_training_stores_a_ready_version_with_its_provenance(demo_races):
    version = trained("logit")

    version.refresh_from_db()
    assert (version.status, version.progress, version.error) == ("ready", "ready", "")
    stored = ModelArtifact.objects.get(version=version)
    assert stored.size == len(stored.data)
    assert stored.sha256 == hashlib.sha256(stored.data).hexdigest()
    assert model_version_load(version).params() == version.hyperparameters
    assert version.features == list(features.FEATURE_COLUMNS)
    assert {"numpy", "pandas", "scikit-learn", "lightgbm"} <= set(version.library_versions)
    training = version.metrics["training"]
    settled = Runner.objects.filter(race__status="result", race__meeting_date__lte=YESTERDAY)
    assert training["runners"] == settled.count()
    assert training["last_day"] == YESTERDAY.isoformat()
    assert version.started_at <= version.finished_at
    # the feature priors: chosen on the training window alone, kept with the model and recorded
    window = selectors.training_frame(train_until=YESTERDAY)
    priors = model_version_load(version).feature_priors()
    assert priors == features.priors_estimate(window) != features.FIXED_PRIORS
    assert training["feature_priors"] == priors.summary()
    assert training["feature_priors"]["from"] == training["first_day"]
    assert training["feature_priors"]["to"] == training["last_day"]


def test_training_chooses_the_value_margin_on_out_of_sample_probabilities(demo_races):
    # given the residual model, early-stopped (and so held out) on the window's last stretch
    version = trained("residual")

    version.refresh_from_db()
    choice = version.metrics["value_margin"]
    stopping = version.metrics["fit"]["early_stopping"]
    assert choice["races"] == stopping["races"] > 0
    assert choice["price"] == "final"
    assert [row["margin"] for row in choice["tried"]] == list(VALUE_MARGINS)
    assert version.value_margin == choice["margin"]
    window = version.metrics["training"]["tuning_window"]
    assert (window["from"], window["to"]) == (stopping["from"], stopping["to"])
    assert window["to"] <= version.train_until.isoformat()
    if choice["margin"] is not None:
        chosen = next(row for row in choice["tried"] if row["margin"] == choice["margin"])
        assert chosen["roi"] > 0


def test_an_algorithm_without_held_out_probabilities_marks_no_value(demo_races):
    version = trained("logit")

    version.refresh_from_db()
    assert version.value_margin is None
    assert version.metrics["value_margin"] == {
        "margin": None, "races": 0, "tried": [], "price": "final"
    }  # fmt: skip


def test_a_failed_training_is_recorded_on_the_version(demo_races):
    version = versions.model_version_create(
        algorithm="logit", train_until=datetime.date(1990, 1, 1)
    )
    versions.model_version_claim(version_id=version.pk)

    with pytest.raises(PredictionError, match="no settled races up to 1990-01-01"):
        versions.model_version_train(version=version)

    version.refresh_from_db()
    assert version.status == "failed"
    assert version.error == "PredictionError: no settled races up to 1990-01-01"
    assert not ModelArtifact.objects.filter(version=version).exists()


def test_a_version_is_claimed_once():
    version = versions.model_version_create(algorithm="logit", train_until=YESTERDAY)

    assert versions.model_version_claim(version_id=version.pk)
    assert not versions.model_version_claim(version_id=version.pk)


def test_unknown_algorithms_and_backwards_windows_are_refused():
    with pytest.raises(PredictionError, match="unknown algorithm 'magic'"):
        versions.model_version_create(algorithm="magic", train_until=YESTERDAY)
    with pytest.raises(PredictionError, match="starts"):
        versions.model_version_create(algorithm="logit", train_until=YESTERDAY, train_from=TODAY)
    assert not ModelVersion.objects.exists()


def test_the_engine_trains_every_algorithm_a_version_may_name():
    # The model's choices are the one list (the demo trains all of them, in this order).
    assert list(ALGORITHMS) == ModelVersion.Algorithm.values


def test_one_active_version_per_algorithm(demo_races):
    first, second = trained("market"), trained("market")
    queued = versions.model_version_create(algorithm="market", train_until=YESTERDAY)

    versions.model_version_activate(version=first)
    versions.model_version_activate(version=second)
    with pytest.raises(PredictionError, match="is queued, not ready"):
        versions.model_version_activate(version=queued)

    active = ModelVersion.objects.filter(is_active=True)
    assert list(active.values_list("pk", flat=True)) == [second.pk]


def test_refresh_stores_coherent_predictions_and_is_idempotent(demo_races):
    # given
    version = trained("logit")
    versions.model_version_activate(version=version)
    race_ids = declared_ids()

    # when
    report = refresh.predictions_refresh(race_ids=race_ids, algorithms_to_use=["logit"])
    first = list(Prediction.objects.order_by("pk").values_list("pk", "runner_id"))
    again = refresh.predictions_refresh(race_ids=race_ids, algorithms_to_use=["logit"])

    # then
    starters = Runner.objects.filter(race_id__in=race_ids, non_runner=False)
    assert report.predictions == again.predictions == starters.count() > 0
    assert report.versions == {version.pk}
    assert list(Prediction.objects.order_by("pk").values_list("pk", "runner_id")) == first
    for race_id in race_ids:
        rows = list(Prediction.objects.filter(runner__race_id=race_id).select_related("runner"))
        assert sum(p.win_probability for p in rows) == pytest.approx(1.0)
        race = Race.objects.select_related("racecourse").get(pk=race_id)
        places = race_place_terms(race=race, field_size=len(rows)).places
        if places:
            total = sum(p.place_probability for p in rows)
            assert total == pytest.approx(min(places, len(rows)), abs=1e-6)
        else:
            assert {p.place_probability for p in rows} == {None}
        assert sorted(p.rank for p in rows) == list(range(1, len(rows) + 1))
        top = min(rows, key=lambda p: p.rank)
        assert top.win_probability == max(p.win_probability for p in rows)
        for p in rows:
            assert p.fair_odds == pytest.approx(1 / p.win_probability)
            assert p.edge == pytest.approx(p.win_probability * float(p.runner.win_odds) - 1)
            assert len(p.explanation) == refresh.EXPLANATION_SIZE
            assert p.explanation[0][0] in version.features


def test_refresh_predicts_with_the_versions_own_priors(demo_races):
    # given a version, and its window's priors estimated again apart from it
    version = versions.model_version_activate(version=trained("logit"))
    priors = features.priors_estimate(selectors.training_frame(train_until=YESTERDAY))
    race_ids = declared_ids()

    # when
    refresh.predictions_refresh(race_ids=race_ids, algorithms_to_use=["logit"])

    # then its stored predictions are those of a fresh build on the whole history with them
    frame, targets = selectors.frame_with_history(race_ids=race_ids)
    targets &= ~frame["non_runner"]
    rows = frame[targets]
    estimator = model_version_load(version)
    fresh = estimator.predict(features.build_features(frame, targets=targets, priors=priors), rows)
    stored = dict(
        Prediction.objects.filter(model_version=version).values_list("runner_id", "win_probability")
    )
    assert [stored[runner] for runner in rows["runner_id"]] == pytest.approx(fresh, rel=1e-12)
    # and not those of the fixed priors, so the comparison is not vacuous
    fixed = features.build_features(frame, targets=targets, priors=features.FIXED_PRIORS)
    assert not np.allclose(estimator.predict(fixed, rows), fresh)


def test_refresh_builds_features_once_per_distinct_priors(demo_races, monkeypatch):
    # given two versions trained on one window, and one stored before priors were estimated
    # (its pickled model has none of its own)
    for algorithm in ("logit", "lightgbm", "market"):
        versions.model_version_activate(version=trained(algorithm))
    old = ModelVersion.objects.get(algorithm="market")
    estimator = model_version_load(old)
    del estimator.feature_priors_
    model_artifact_store(version=old, estimator=estimator, update_fields=[])
    built = []
    build = features.build_features

    def build_and_count(*args, **kwargs):
        built.append(kwargs["priors"])
        return build(*args, **kwargs)

    monkeypatch.setattr(features, "build_features", build_and_count)

    # when
    report = refresh.predictions_refresh(race_ids=declared_ids())

    # then the old version predicts with the fixed priors, the others share their estimated ones
    assert len(report.versions) == 3
    assert model_version_load(old).feature_priors() is features.FIXED_PRIORS
    estimated = model_version_load(ModelVersion.objects.get(algorithm="logit")).feature_priors()
    assert sorted(built, key=str) == sorted([features.FIXED_PRIORS, estimated], key=str)


def test_refresh_is_walk_forward_and_skips_non_runners(demo_races):
    # given: a version trained up to yesterday, and a runner withdrawn today
    trained("logit")
    yesterday_race = Race.objects.filter(meeting_date=YESTERDAY).first()
    today_race = Race.objects.filter(meeting_date=TODAY).first()
    withdrawn = today_race.runners.first()
    Runner.objects.filter(pk=withdrawn.pk).update(non_runner=True)

    # when
    report = refresh.predictions_refresh(
        race_ids=[yesterday_race.pk, today_race.pk], algorithms_to_use=["logit"]
    )

    # then: yesterday's race was in the training window, so this version never predicts it
    assert report.skipped == [f"logit: no ready version trained before {YESTERDAY}"]
    assert not Prediction.objects.filter(runner__race=yesterday_race).exists()
    assert not Prediction.objects.filter(runner=withdrawn).exists()
    assert Prediction.objects.filter(runner__race=today_race).count() == (
        today_race.runners.count() - 1
    )


def test_refresh_computes_place_chances_for_each_races_place_terms(demo_races):
    # given: three of today's handicaps cut to 6, 4 and 4 starters, the last one from the Hong
    # Kong data, whose place pool pays 2 places from 4 starters
    trained("logit")
    six, four, hong_kong = Race.objects.filter(meeting_date=TODAY).order_by("pk")[:3]
    for race, starters in ((six, 6), (four, 4), (hong_kong, 4)):
        keep = race.runners.order_by("saddle_number").values_list("pk", flat=True)[:starters]
        race.runners.exclude(pk__in=list(keep)).update(non_runner=True)
    Race.objects.filter(pk=hong_kong.pk).update(source=Race.Source.HKRACING)

    # when
    refresh.predictions_refresh(
        race_ids=[six.pk, four.pk, hong_kong.pk], algorithms_to_use=["logit"]
    )

    # then: 2 places of 6 runners; none with 4; the provider's terms for the Hong Kong race
    def places(race):
        return [p.place_probability for p in Prediction.objects.filter(runner__race=race)]

    assert len(places(six)) == 6
    assert sum(places(six)) == pytest.approx(2.0)
    assert places(four) == [None] * 4
    assert len(places(hong_kong)) == 4
    assert sum(places(hong_kong)) == pytest.approx(2.0)


def test_evaluation_refuses_the_training_window_and_stores_its_metrics(demo_races):
    version = trained("logit", until=TODAY - datetime.timedelta(days=20))

    with pytest.raises(PredictionError, match="evaluate it from"):
        evaluation.model_version_evaluate(
            version=version, date_from=TODAY - datetime.timedelta(days=25), date_to=YESTERDAY
        )
    metrics = evaluation.model_version_evaluate(
        version=version, date_from=TODAY - datetime.timedelta(days=19), date_to=YESTERDAY
    )

    settled = Race.objects.filter(
        status="result", meeting_date__gte=TODAY - datetime.timedelta(days=19)
    )
    assert metrics["races"] == settled.count()
    # Pseudo R² is the share of a uniform guess's log loss that the model removes; both losses
    # recomputed here, from the fields and from the version's own predictions of the winners.
    # (A few weeks of demo data is too little to promise the model beats the uniform guess.)
    fields = Counter(
        Runner.objects.filter(race__in=settled, non_runner=False).values_list("race_id", flat=True)
    )
    uniform = statistics.mean(math.log(size) for size in fields.values())
    refresh.predictions_refresh(race_ids=list(fields), algorithms_to_use=["logit"])
    winners = Prediction.objects.filter(model_version=version, runner__finish_position=1)
    log_loss = -statistics.mean(
        math.log(p) for p in winners.values_list("win_probability", flat=True)
    )
    assert winners.count() == len(fields)
    assert metrics["uniform_log_loss"] == pytest.approx(uniform)
    assert metrics["log_loss"] == pytest.approx(log_loss)
    assert metrics["pseudo_r2"] == pytest.approx(1 - log_loss / uniform)
    # The demo market carries information by construction.
    assert 0 < metrics["market_pseudo_r2"] < 1
    assert metrics["delta_r2_vs_market"] == pytest.approx(
        metrics["pseudo_r2"] - metrics["market_pseudo_r2"]
    )
    version.refresh_from_db()
    key = f"{TODAY - datetime.timedelta(days=19)}..{YESTERDAY}"
    assert version.metrics["evaluations"][key]["log_loss"] == metrics["log_loss"]


def test_evaluation_refuses_hong_kong_days_that_chose_an_old_versions_fixed_priors():
    # given Hong Kong race days before the fixed priors' last day, and two versions trained
    # before them: one stored before priors were estimated per window (none of its own)
    today = datetime.date.fromisoformat(features.FIXED_PRIORS.last_day)
    demo_data_seed(seed=5, today=today, days_ahead=0, history_days=40)
    until = today - datetime.timedelta(days=15)
    old, new = trained("logit", until=until), trained("logit", until=until)
    estimator = model_version_load(old)
    del estimator.feature_priors_
    model_artifact_store(version=old, estimator=estimator, update_fields=[])
    window = {"date_from": until + datetime.timedelta(days=1), "date_to": today}
    evaluation.model_version_evaluate(version=old, **window)  # demo races: nothing chose them
    Race.objects.update(source=Race.Source.HKRACING)

    # when / then the old one is refused, saying why and what to do
    with pytest.raises(PredictionError) as refused:
        evaluation.model_version_evaluate(version=old, **window)
    assert str(refused.value) == (
        f"version {old.pk} builds its features with the fixed priors estimated on the Hong Kong "
        f"races of 1997-06-02 to {today}, which overlap this window; train a new version up to "
        f"{until} (its priors come from its own window) or evaluate from "
        f"{today + datetime.timedelta(days=1)} on"
    )
    # and the version with priors from its own window is scored
    assert evaluation.model_version_evaluate(version=new, **window)["races"] > 0


def test_backtest_trains_and_chooses_priors_before_each_season_and_reuses_versions():
    # given: two demo seasons with a 60-day break between them
    early = TODAY - datetime.timedelta(days=100)
    demo_data_seed(seed=5, today=early, days_ahead=0, history_days=25)
    demo_data_seed(seed=5, today=TODAY, days_ahead=0, history_days=15)
    second_start = Race.objects.filter(meeting_date__gt=early).order_by("meeting_date").first()

    # when
    rows = evaluation.backtest_run(algorithm="logit", date_from=early, date_to=TODAY)
    again = evaluation.backtest_run(algorithm="logit", date_from=early, date_to=TODAY)

    # then
    assert [row.season for row in rows] == [2]
    assert rows[0].date_from == second_start.meeting_date
    version = ModelVersion.objects.get(pk=rows[0].model_version)
    assert version.train_until < second_start.meeting_date
    # the feature priors were estimated on races before the season it scored, none in it
    priors = version.metrics["training"]["feature_priors"]
    assert priors["to"] == version.train_until.isoformat() < rows[0].date_from.isoformat()
    assert model_version_load(version).feature_priors().last_day == priors["to"]
    assert [row.model_version for row in again] == [version.pk]
    assert ModelVersion.objects.count() == 1


def test_a_backtest_does_not_reuse_a_version_with_the_fixed_priors(demo_races):
    # given a version stored before priors were estimated per window
    old = trained("logit")
    training = {**old.metrics["training"]}
    del training["feature_priors"]
    ModelVersion.objects.filter(pk=old.pk).update(metrics={**old.metrics, "training": training})

    # when
    version = versions.model_version_get_or_train(algorithm="logit", train_until=YESTERDAY)

    # then a new one is trained, with its own
    assert version.pk != old.pk
    assert version.metrics["training"]["feature_priors"]["to"] == YESTERDAY.isoformat()
    assert versions.model_version_get_or_train(algorithm="logit", train_until=YESTERDAY) == version


def test_held_out_versions_are_trained_scored_and_predict_their_window_once(demo_races):
    # given
    train_until = TODAY - datetime.timedelta(days=15)
    names = ["market", "logit"]

    # when
    holdout = model_versions_holdout_ensure(
        algorithms_to_use=names, train_until=train_until, date_to=YESTERDAY
    )
    stored = {v.pk: v.metrics for v in ModelVersion.objects.all()}
    again = model_versions_holdout_ensure(
        algorithms_to_use=names, train_until=train_until, date_to=YESTERDAY
    )

    # then
    window = f"{train_until + datetime.timedelta(days=1)}..{YESTERDAY}"
    assert [v.algorithm for v in holdout.versions] == names
    assert [v.train_until for v in holdout.versions] == [train_until, train_until]
    settled = Race.objects.filter(status="result", meeting_date__gt=train_until)
    for version in ModelVersion.objects.all():
        evaluation = version.metrics["evaluations"][window]
        assert evaluation["races"] == settled.count()
        assert evaluation["sources"] == ["demo"]
    starters = Runner.objects.filter(race__in=settled, non_runner=False).count()
    assert holdout.refresh.races == settled.count()
    assert holdout.refresh.predictions == 2 * starters
    assert Prediction.objects.count() == 2 * starters
    # the second call trains, scores and predicts nothing
    assert [v.pk for v in again.versions] == [v.pk for v in holdout.versions]
    assert ModelVersion.objects.count() == 2
    assert {v.pk: v.metrics for v in ModelVersion.objects.all()} == stored
    assert again.refresh.predictions == 0
    assert Prediction.objects.count() == 2 * starters


def test_held_out_window_must_follow_the_training_window(demo_races):
    with pytest.raises(PredictionError, match="before it starts"):
        model_versions_holdout_ensure(
            algorithms_to_use=["market"], train_until=YESTERDAY, date_to=YESTERDAY
        )
    assert not ModelVersion.objects.exists()


def test_a_range_is_refreshed_walk_forward_a_chunk_at_a_time(demo_races):
    # given: one version, trained before the last ten days
    version = trained("logit", until=TODAY - datetime.timedelta(days=11))
    date_from = TODAY - datetime.timedelta(days=20)
    lines = []

    # when
    report = refresh.predictions_refresh_range(
        date_from=date_from,
        date_to=YESTERDAY,
        chunk_days=7,
        algorithms_to_use=["logit"],
        progress=lines.append,
    )

    # then: the days up to the training window's end have no usable version
    predicted = Race.objects.filter(
        meeting_date__range=(TODAY - datetime.timedelta(days=10), YESTERDAY)
    )
    starters = Runner.objects.filter(race__in=predicted, non_runner=False)
    in_range = Race.objects.filter(meeting_date__range=(date_from, YESTERDAY))
    assert report.races == in_range.exclude(status="abandoned").count()
    assert report.predictions == starters.count()
    assert report.versions == {version.pk}
    assert set(Prediction.objects.values_list("runner_id", flat=True)) == set(
        starters.values_list("pk", flat=True)
    )
    assert [line.split(":")[0] for line in lines] == [
        f"{date_from} to {date_from + datetime.timedelta(days=6)}",
        f"{date_from + datetime.timedelta(days=7)} to {date_from + datetime.timedelta(days=13)}",
        f"{date_from + datetime.timedelta(days=14)} to {YESTERDAY}",
    ]
    skipped_days = sorted(
        set(
            Race.objects.filter(
                meeting_date__range=(date_from, TODAY - datetime.timedelta(days=11))
            ).values_list("meeting_date", flat=True)
        )
    )
    assert report.skipped_days == {"logit": skipped_days}
    assert report.skipped == [
        f"logit: no ready version trained before {len(skipped_days)} race days "
        f"({skipped_days[0]} to {skipped_days[-1]})"
    ]
