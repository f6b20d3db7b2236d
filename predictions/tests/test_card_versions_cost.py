"""The race card and the race detail API read the versions a race's day shows, not every version:
their queries and the version rows they fetch do not grow with the versions and their metrics."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from predictions.models import ModelVersion, Prediction
from predictions.selectors import card_versions
from predictions.services.cache import model_versions_invalidate
from races.tests.factories import RaceFactory, RunnerFactory

from .evaluations import stored_evaluation
from .factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)
ONE_DAY = datetime.timedelta(1)


def _metrics(seed: int) -> dict:
    """What an evaluated version stores: several windows, each with its calibration and returns
    day by day (about 60 KB of JSON)."""
    evaluations = {}
    for window in range(12):
        start = DAY - datetime.timedelta(400 - 30 * window)
        evaluation = stored_evaluation(
            algorithm="logit",
            date_from=start,
            date_to=start + datetime.timedelta(29),
            log_loss=2.0 + seed / 1000,
            market_log_loss=2.05,
        )
        by_day = [
            {"day": (start + datetime.timedelta(d)).isoformat(), "bets": 3, "profit": 0.5}
            for d in range(30)
        ]
        evaluation["returns"]["value"]["by_day"] = by_day
        evaluations[f"window-{window}"] = evaluation
    return {"log_loss": 2.0, "evaluations": evaluations}


def _predict(version: ModelVersion, runners: list, win: float) -> None:
    Prediction.objects.bulk_create(
        Prediction(
            runner=runner,
            model_version=version,
            win_probability=win,
            place_probability=win * 2,
            rank=number,
            fair_odds=1 / win,
            edge=0.1,
        )
        for number, runner in enumerate(runners, start=1)
    )


@pytest.fixture
def race_with_two_versions():
    """A race on DAY with 14 runners, and the two versions its day shows: the walk-forward logit
    (the active logit was trained on DAY) and the active market version."""
    race = RaceFactory(meeting_date=DAY, race_number=1)
    runners = [RunnerFactory(race=race, saddle_number=n) for n in range(1, 15)]
    logit = ModelVersionFactory(algorithm="logit", train_until=DAY - ONE_DAY, metrics=_metrics(1))
    market = ModelVersionFactory(
        algorithm="market", train_until=DAY - 30 * ONE_DAY, is_active=True, metrics=_metrics(2)
    )
    _predict(logit, runners, 0.05)
    _predict(market, runners, 0.06)
    return race, runners, {"logit": logit, "market": market}


def _add_versions(runners: list, count: int) -> None:
    """`count` more versions the day does not show, each with predictions for the race: older
    logits, newer (but inactive) markets, logits trained on or after the day (one active)."""
    versions = []
    for i in range(count):
        if i % 3 == 0:
            algorithm, until, active = "logit", DAY - (2 + i) * ONE_DAY, False
        elif i % 3 == 1:
            algorithm, until, active = "market", DAY - ONE_DAY, False
        else:
            algorithm, until, active = "logit", DAY + (i // 3) * ONE_DAY, i == 2
        versions.append(
            ModelVersion(
                algorithm=algorithm,
                train_until=until,
                status=ModelVersion.Status.READY,
                is_active=active,
                metrics=_metrics(i + 10),
            )
        )
    for version in ModelVersion.objects.bulk_create(versions):
        _predict(version, runners, 0.07)
    model_versions_invalidate()  # a bulk write sends no signals: its writer says what changed


class _VersionRows:
    """Each query's SQL and how many rows it returned (psycopg's rowcount)."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, int]] = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.queries.append((sql, context["cursor"].rowcount))
        return result

    @property
    def version_rows(self) -> int:
        return sum(n for sql, n in self.queries if 'FROM "predictions_modelversion"' in sql)

    @property
    def metrics_read(self) -> bool:
        return any('"predictions_modelversion"."metrics"' in sql for sql, _ in self.queries)


def _get(client, url: str):
    rows = _VersionRows()
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(rows):
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries), rows


def _page(response) -> str:
    """The page without its CSRF tokens, which change from one response to the next."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_card_costs_the_same_with_2_and_60_versions(member_client, race_with_two_versions):
    # given
    race, runners, shown = race_with_two_versions
    url = race.get_absolute_url() + "?model=logit"
    two, two_queries, two_rows = _get(member_client, url)
    _add_versions(runners, 58)

    # when
    sixty, sixty_queries, sixty_rows = _get(member_client, url)

    # then
    assert ModelVersion.objects.count() == 60
    assert sixty.context["version"] == shown["logit"]
    assert [link["version"] for link in sixty.context["model_links"]] == [
        shown["logit"],
        shown["market"],
    ]
    assert _page(sixty) == _page(two)
    assert "5.0%" in _page(sixty)
    assert sixty_queries == two_queries
    assert (two_rows.version_rows, sixty_rows.version_rows) == (2, 2)
    assert not sixty_rows.metrics_read


def test_the_race_detail_api_costs_the_same_with_2_and_60_versions(
    member_api, race_with_two_versions
):
    # given
    race, runners, shown = race_with_two_versions
    url = f"/api/v1/races/{race.pk}/"
    two, two_queries, two_rows = _get(member_api, url)
    _add_versions(runners, 58)

    # when
    sixty, sixty_queries, sixty_rows = _get(member_api, url)

    # then
    assert sixty.json() == two.json()
    assert sorted(
        (p["model_version"], p["algorithm"], p["win_probability"])
        for p in sixty.json()["runners"][0]["predictions"]
    ) == [(shown["logit"].pk, "logit", 0.05), (shown["market"].pk, "market", 0.06)]
    assert sixty_queries == two_queries
    assert (two_rows.version_rows, sixty_rows.version_rows) == (2, 2)
    assert not sixty_rows.metrics_read


def test_card_versions_follow_the_walk_forward_rule_among_many(race_with_two_versions):
    race, runners, shown = race_with_two_versions
    _add_versions(runners, 58)

    assert card_versions(day=DAY) == shown
    # The day before the shown logit's training day, the newest logit before it is shown.
    assert card_versions(day=DAY - ONE_DAY)["logit"].train_until == DAY - 2 * ONE_DAY
    assert card_versions(day=DAY - ONE_DAY)["market"] == shown["market"]
