"""The kept history: a refresh's features equal the whole-history build, and a change in the
settled history is seen on the next call."""

import datetime

import pandas as pd
import pytest
from django.db.models import F

from hrp_site.testing.required import require_postgresql
from predictions import selectors
from predictions.ml.features import FIXED_PRIORS, FeaturePriors, build_features, priors_estimate
from races.demo import demo_data_seed
from races.models import Race, Runner

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 20)


@pytest.fixture
def demo_races():
    demo_data_seed(seed=5, today=TODAY, days_ahead=2, history_days=60)


def features_both_ways(
    race_ids: list[int], priors: FeaturePriors = FIXED_PRIORS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The targets' features on the whole history and on the kept history, by runner id."""
    frame, targets = selectors.frame_with_history(race_ids=race_ids)
    targets &= ~frame["non_runner"]
    full = build_features(frame, targets=targets, priors=priors)
    full.index = frame.loc[full.index, "runner_id"].to_numpy()

    kept_frame, kept_targets, kept = selectors.frame_with_kept_history(race_ids=race_ids)
    kept_targets &= ~kept_frame["non_runner"]
    fast = build_features(kept_frame, targets=kept_targets, kept=kept, priors=priors)
    fast.index = kept_frame.loc[fast.index, "runner_id"].to_numpy()
    return full.sort_index(), fast.sort_index()


def race_ids_of(day: datetime.date) -> list[int]:
    return list(
        Race.objects.filter(meeting_date=day).order_by("race_number").values_list("pk", flat=True)
    )


def test_kept_history_gives_the_features_of_the_whole_history(demo_races):
    # given cards of declared races, of a past day's later races (its earlier races settled the
    # same day) and of races on two past days at once
    settled_days = sorted(set(Race.objects.results().values_list("meeting_date", flat=True)))
    late = race_ids_of(settled_days[-3])
    cards = {
        "declared": list(Race.objects.filter(status="declared").values_list("pk", flat=True)),
        "later races of a settled day": late[len(late) // 2 :],
        "two days": race_ids_of(settled_days[5])[:2] + race_ids_of(settled_days[-1])[-2:],
        "early day": race_ids_of(settled_days[1]),
    }
    seen = pd.DataFrame()
    for name, race_ids in cards.items():
        assert race_ids, name

        # when
        full, fast = features_both_ways(race_ids)

        # then
        assert len(full) == Runner.objects.starters().filter(race_id__in=race_ids).count(), name
        pd.testing.assert_frame_equal(fast, full, check_exact=True, obj=name)
        seen = pd.concat([seen, full])
    # debutants, horses with form and speed figures, stalls with a record: every family counted
    assert (seen["h_runs"] == 0).any()
    assert (seen["h_runs"] >= 5).any()
    assert seen["h_fig_mean3"].notna().any()
    assert seen["draw_win_ae"].nunique() > 1


def test_kept_history_gives_the_features_of_the_whole_history_with_any_priors(demo_races):
    # given two sets of priors: the history's own and the fixed ones
    estimated = priors_estimate(selectors.kept_history().frame)
    assert estimated != FIXED_PRIORS
    cards = list(Race.objects.filter(status="declared").values_list("pk", flat=True))

    for priors in (estimated, FIXED_PRIORS, estimated):
        # when
        full, fast = features_both_ways(cards, priors)

        # then, each time, the kept history gives what the whole history gives with them
        pd.testing.assert_frame_equal(fast, full, check_exact=True)
    fixed, _ = features_both_ways(cards)
    assert not full.equals(fixed)


def test_a_newly_settled_result_replaces_the_kept_history(demo_races):
    # given a kept history and the card of the last settled day's final race
    last_day = Race.objects.results().order_by("-meeting_date").first().meeting_date
    before = selectors.kept_history()
    later = Race.objects.filter(meeting_date__gt=last_day).order_by("meeting_date", "race_number")
    card = [later.first().pk]
    _, old = features_both_ways(card)
    assert selectors.kept_history() is before

    # when the last day's winner is disqualified to last
    race = Race.objects.results().filter(meeting_date=last_day).order_by("race_number").last()
    winner = race.runners.get(finish_position=1)
    winner.finish_position = race.runners.starters().count() + 1
    winner.save()

    # then the kept history is read again and the card's features follow the new result
    after = selectors.kept_history()
    assert after is not before
    kept = after.frame.set_index("runner_id")
    assert kept.loc[winner.pk, "finish_position"] == winner.finish_position
    full, fast = features_both_ways(card)
    pd.testing.assert_frame_equal(fast, full, check_exact=True)
    assert not fast.equals(old)


def test_declared_races_changing_keep_the_kept_history(demo_races):
    # given
    kept = selectors.kept_history()
    declared = Runner.objects.filter(race__status=Race.Status.DECLARED)

    # when a declared runner's price moves and a declared race's going is changed
    runner = declared.first()
    runner.win_odds = 7.5
    runner.save()
    Race.objects.filter(pk=runner.race_id).update(going="SOFT")

    # then
    assert selectors.kept_history() is kept


def test_a_race_settling_replaces_the_kept_history(demo_races):
    # given a declared race and the kept history without it
    kept = selectors.kept_history()
    race = Race.objects.filter(status=Race.Status.DECLARED).order_by("meeting_date").first()
    starters = list(race.runners.starters().order_by("saddle_number"))

    # when its result comes in
    for position, runner in enumerate(starters, start=1):
        runner.finish_position = position
        runner.save()
    race.status = Race.Status.RESULT
    race.save()

    # then its starters are in the history
    after = selectors.kept_history()
    assert after is not kept
    assert set(after.frame.loc[after.frame["race_id"] == race.pk, "runner_id"]) == {
        runner.pk for runner in starters
    }


def test_a_bulk_update_of_results_replaces_the_kept_history(demo_races):
    # PostgreSQL's triggers see writes that bypass the models (no updated_at saved)
    require_postgresql("the settled history's triggers are PostgreSQL's")
    # given
    kept = selectors.kept_history()
    race = Race.objects.results().order_by("-meeting_date").first()

    # when the race's placings are reversed by one UPDATE
    Runner.objects.filter(race=race, finish_position__isnull=False).update(
        finish_position=100 - F("finish_position")
    )

    # then
    after = selectors.kept_history()
    assert after is not kept
    positions = after.frame.loc[after.frame["race_id"] == race.pk, "finish_position"]
    assert positions.min() > 80
