import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from predictions import selectors
from predictions.ml.frame import FRAME_COLUMNS
from predictions.models import ModelVersion
from races.models import Race, Runner
from races.selectors import race_card
from races.tests.factories import RaceFactory, RunnerFactory

from .factories import ModelVersionFactory, PredictionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


def _run(horse, day, position, *, status=Race.Status.RESULT, race_number=1, **fields):
    race = RaceFactory(meeting_date=day, race_number=race_number, status=status)
    return RunnerFactory(race=race, horse=horse, finish_position=position, **fields)


def test_a_day_shows_the_active_version_if_it_never_saw_the_day_else_the_latest_before_it():
    # given: per algorithm, versions trained before DAY, on DAY and not ready
    before = DAY - datetime.timedelta(1)
    logit_active = ModelVersionFactory(algorithm="logit", train_until=before, is_active=True)
    ModelVersionFactory(algorithm="logit", train_until=before)  # newer, not active
    market_old = ModelVersionFactory(algorithm="market", train_until=before - datetime.timedelta(9))
    market_latest = ModelVersionFactory(algorithm="market", train_until=before)
    ModelVersionFactory(algorithm="market", train_until=DAY, is_active=True)  # saw the day
    ModelVersionFactory(
        algorithm="benter", train_until=before, status=ModelVersion.Status.QUEUED
    )  # not ready

    # when
    versions = selectors.card_versions(day=DAY)

    # then: the card and the refreshes choose the same versions
    assert versions == {"logit": logit_active, "market": market_latest}
    assert market_old != market_latest
    for algorithm in ModelVersion.Algorithm.values:
        assert selectors.model_version_for_day(algorithm=algorithm, day=DAY) == versions.get(
            algorithm
        )


def test_race_card_rows_and_result_summary():
    # given: a settled race, a version, and predictions for the starters
    race = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)
    first = RunnerFactory(race=race, saddle_number=1, win_odds=Decimal("6.0"), finish_position=2)
    second = RunnerFactory(race=race, saddle_number=2, win_odds=Decimal("2.5"), finish_position=1)
    scratched = RunnerFactory(race=race, saddle_number=3, non_runner=True, win_odds=None)
    version = ModelVersionFactory(train_until=DAY - datetime.timedelta(1))
    PredictionFactory(runner=first, model_version=version, rank=1, win_probability=0.4)
    PredictionFactory(runner=second, model_version=version, rank=2, win_probability=0.3)
    PredictionFactory(runner=scratched, model_version=version, rank=3, win_probability=0.3)
    _run(first.horse, DAY - datetime.timedelta(7), 4)

    # when
    race = race_card(race_id=race.pk).get()
    rows = selectors.race_card_rows(race=race, version=version)
    summary = selectors.race_result_summary(rows)

    # then
    assert [(r.runner, r.form) for r in rows] == [(first, "4"), (second, "-"), (scratched, "-")]
    assert [r.prediction and r.prediction.rank for r in rows] == [1, 2, None]
    assert summary == {"top_pick": rows[0], "favourite": rows[1], "winners": [rows[1]]}


def test_race_result_summary_is_none_before_a_winner_is_known():
    race = RaceFactory(meeting_date=DAY)
    RunnerFactory(race=race)
    rows = selectors.race_card_rows(race=race_card(race_id=race.pk).get(), version=None)

    assert rows[0].prediction is None
    assert selectors.race_result_summary(rows) is None


def test_runner_frame_reads_in_chunks_into_the_compact_dtypes(monkeypatch):
    # given: a settled race and a declared one on a later day, read two rows at a time so that
    # the string columns' categories differ between chunks
    monkeypatch.setattr(selectors, "_CHUNK_ROWS", 2)
    settled = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT, going="good to firm")
    winner = RunnerFactory(
        race=settled,
        saddle_number=2,
        win_odds=Decimal("3.70"),
        declared_weight_lb=Decimal("1102.5"),
        finish_position=1,
        finish_time=Decimal("70.12"),
        lengths_behind=None,
        section_positions=[4, 2, 1],
    )
    second = RunnerFactory(
        race=settled, saddle_number=1, finish_position=2, lengths_behind=Decimal("0.75")
    )
    declared = RaceFactory(
        meeting_date=DAY + datetime.timedelta(7), status=Race.Status.DECLARED, going=""
    )
    entry = RunnerFactory(race=declared, saddle_number=1, jockey=None, draw=None, win_odds=None)

    # when
    frame = selectors.runner_frame(Runner.objects.filter(race__in=[settled, declared]))

    # then: the dtypes of predictions.ml.frame, rows in (day, race, saddle) order
    assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == FRAME_COLUMNS
    assert frame["runner_id"].tolist() == [second.pk, winner.pk, entry.pk]
    assert frame["status"].tolist() == ["result", "result", "declared"]
    assert frame["going"].tolist() == ["GOOD TO FIRM", "GOOD TO FIRM", ""]
    row = frame.iloc[1]
    assert row["meeting_date"] == pd.Timestamp(DAY)
    assert row["win_odds"] == 3.7
    assert row["declared_weight_lb"] == 1102.5
    assert row["finish_time"] == 70.12
    assert np.isnan(row["lengths_behind"])
    assert (row["early_position"], row["late_position"]) == (4.0, 2.0)
    assert frame["lengths_behind"].iloc[0] == 0.75
    assert np.isnan(frame["early_position"].iloc[0])
    assert np.isnan(frame["jockey_id"].iloc[2])
    assert np.isnan(frame["draw"].iloc[2])
    assert frame["horse_id"].tolist() == [second.horse_id, winner.horse_id, entry.horse_id]


def test_runner_frame_of_no_runners_is_empty_with_the_frame_columns():
    RunnerFactory(race=RaceFactory(meeting_date=DAY))

    frame = selectors.runner_frame(Runner.objects.filter(race__meeting_date__gt=DAY))

    assert frame.empty
    assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == FRAME_COLUMNS
