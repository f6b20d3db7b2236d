import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from predictions.models import ModelVersion
from predictions.tests.evaluations import stored_evaluation
from predictions.tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

TRAIN_UNTIL = datetime.date(2026, 10, 1)
FROM, TO = datetime.date(2026, 10, 2), datetime.date(2026, 10, 29)
WINDOW = "2026-10-02..2026-10-29"


def evaluated_version(
    algorithm, log_loss, *, market_log_loss=1.95, windows=((FROM, TO),), interval=None, **kw
):
    evaluations = {
        f"{start}..{end}": stored_evaluation(
            algorithm=algorithm,
            date_from=start,
            date_to=end,
            log_loss=log_loss,
            market_log_loss=market_log_loss,
            interval=interval,
        )
        for start, end in windows
    }
    return ModelVersionFactory(
        algorithm=algorithm,
        train_until=kw.pop("train_until", TRAIN_UNTIL),
        metrics={"evaluations": evaluations},
        **kw,
    )


def test_the_performance_page_needs_a_login(client):
    response = client.get(reverse("predictions:performance"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/models/"


def test_the_performance_page_shows_stored_held_out_evaluations_and_both_charts(
    client, member_user
):
    # given
    market = evaluated_version("market", 1.95, is_active=True)
    lightgbm = evaluated_version("lightgbm", 1.9123)
    benter = evaluated_version("benter", 1.9876)
    client.force_login(member_user)

    # when
    response = client.get(reverse("predictions:performance"))

    # then
    assert response.status_code == 200
    content = " ".join(response.content.decode().split())
    assert f"Active version <strong>v{market.pk}</strong>" in content
    assert f"v{lightgbm.pk} <span" in content
    assert f"v{benter.pk} <span" in content
    assert "Beats the market</strong> on 40 held-out races" in content
    assert "log loss 1.9123 against the market's 1.9500." in content
    assert "Trails the market</strong> on 40 held-out races" in content
    assert '<span class="edge positive">+0.0151</span>' in content  # (1.95 - 1.9123) / 2.5
    assert '<span class="edge negative">-0.0150</span>' in content
    assert "32.5%" in content  # top-pick accuracy
    assert '+10.0% <span class="muted">(60 bets)</span>' in content
    assert content.count('<figure class="chart">') == 2
    assert " style=" not in content  # the Content-Security-Policy refuses inline styles
    assert "Calibration: predicted against observed win rate" in content
    assert "LightGBM: value bets" in content
    assert "Market (normalised odds): top pick" in content
    assert "Benter (model + market): value bets" in content
    assert response.context["returns_labels"] == [
        "Market (normalised odds): value bets",
        "LightGBM: value bets",
        "Benter (model + market): value bets",
        "Market (normalised odds): top pick",
    ]
    assert [row["day"] for row in response.context["returns_table"]] == [
        "2026-10-02",
        "2026-10-29",
    ]
    assert "Nothing has been evaluated yet" not in content


def test_a_lower_log_loss_inside_the_noise_is_level_with_the_market(client, member_user):
    # given: 0.0377 better than the market, but the interval of the difference includes zero
    evaluated_version("lightgbm", 1.9123, interval=(-0.09, 0.01), is_active=True)

    # when: a visitor's landing page, a member's performance page
    landing = client.get(reverse("home"))
    client.force_login(member_user)
    performance = client.get(reverse("predictions:performance"))

    # then
    content = " ".join(performance.content.decode().split())
    assert '<strong class="edge ">Level with the market</strong> on 40 held-out races' in content
    assert "Beats the market" not in content
    assert (
        "ΔR² against the market +0.0151, 90 % interval -0.0040 to +0.0360 (1,000 resamples of "
        "these races): it includes zero, so on this window the model cannot be told apart from "
        "the market." in content
    )
    assert '<td class="num nowrap">-0.0040 to +0.0360</td>' in content
    landing_content = " ".join(landing.content.decode().split())
    assert (
        'Level with the market <span class="muted nowrap">(ΔR² +0.0151, 90 % interval -0.0040 '
        "to +0.0360)</span>" in landing_content
    )


def test_a_model_beats_the_market_when_the_interval_excludes_zero(client, member_user):
    evaluated_version("benter", 1.9123, interval=(-0.06, -0.01), is_active=True)
    evaluated_version("lightgbm", 2.05, interval=(0.02, 0.15), is_active=True)
    client.force_login(member_user)

    response = client.get(reverse("predictions:performance"))

    content = " ".join(response.content.decode().split())
    assert '<strong class="edge positive">Beats the market</strong>' in content
    assert "it excludes zero, so on this window the model beats the market" in content
    assert '<strong class="edge negative">Trails the market</strong>' in content
    assert "it excludes zero, so on this window the model trails the market" in content


def test_an_evaluation_stored_before_intervals_compares_the_two_log_losses(client, member_user):
    version = evaluated_version("lightgbm", 1.9123)
    for metrics in version.metrics["evaluations"].values():
        for name in ("delta_log_loss_vs_market_ci", "delta_r2_vs_market_ci"):
            del metrics[name]
    version.save()
    client.force_login(member_user)

    response = client.get(reverse("predictions:performance"))

    content = " ".join(response.content.decode().split())
    assert "Beats the market</strong> on 40 held-out races" in content
    assert "90 % interval" not in content.split("Held-out evaluations")[0]


@pytest.mark.parametrize("interval", [None, (2e-18, 8e-18)])
def test_the_market_model_is_level_with_the_market(client, member_user, interval):
    # the market model scored against the market differs by float round-off at most
    evaluated_version("market", 1.95004, market_log_loss=1.95, interval=interval)
    client.force_login(member_user)

    response = client.get(reverse("predictions:performance"))

    content = " ".join(response.content.decode().split())
    assert '<strong class="edge ">Level with the market</strong> on 40 held-out races' in content
    assert "Beats the market" not in content
    assert "Trails the market" not in content


def test_the_performance_page_leaves_out_evaluations_inside_the_training_window(
    client, member_user
):
    evaluated_version("logit", 1.9, train_until=datetime.date(2026, 10, 15))
    client.force_login(member_user)

    response = client.get(reverse("predictions:performance"))

    assert response.context["performance"]["windows"] == []
    assert response.context["performance"]["algorithms"] == []
    assert "Nothing has been evaluated yet" in response.content.decode()


def test_the_performance_page_lists_windows_latest_first_and_charts_the_chosen_one(
    client, member_user
):
    earlier = (datetime.date(2026, 9, 2), datetime.date(2026, 9, 30))
    evaluated_version(
        "logit", 1.9, train_until=datetime.date(2026, 9, 1), windows=(earlier, (FROM, TO))
    )
    client.force_login(member_user)

    latest = client.get(reverse("predictions:performance"))
    chosen = client.get(reverse("predictions:performance"), {"window": "2026-09-02..2026-09-30"})
    unknown = client.get(reverse("predictions:performance"), {"window": "nonsense"})

    assert latest.context["performance"]["windows"] == [WINDOW, "2026-09-02..2026-09-30"]
    assert [
        row["window"] for row in latest.context["performance"]["algorithms"][0]["evaluations"]
    ] == [
        WINDOW,
        "2026-09-02..2026-09-30",
    ]
    assert latest.context["performance"]["window"] == WINDOW
    assert chosen.context["performance"]["window"] == "2026-09-02..2026-09-30"
    assert chosen.context["returns_table"][0]["day"] == "2026-09-02"
    assert unknown.context["performance"]["window"] == WINDOW


def test_the_performance_page_says_what_to_run_when_nothing_is_evaluated(client, member_user):
    ModelVersionFactory(algorithm="logit", is_active=True, metrics={})
    client.force_login(member_user)

    response = client.get(reverse("predictions:performance"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Nothing has been evaluated yet" in content
    assert "manage.py backtest" in content
    assert "manage.py evaluate_model" in content
    assert "No held-out evaluation yet." in content
    assert "<svg" not in content


def test_the_performance_page_reads_a_constant_number_of_queries(client, member_user):
    client.force_login(member_user)
    evaluated_version("market", 1.95, is_active=True)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("predictions:performance"))

    for algorithm in ("logit", "lightgbm", "xgboost", "benter"):
        evaluated_version(algorithm, 1.93, is_active=True)
        evaluated_version(algorithm, 1.94, train_until=datetime.date(2026, 9, 1))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("predictions:performance"))

    assert len(response.context["performance"]["chosen"]) == 5
    assert ModelVersion.objects.count() == 9
    assert len(many) == len(few)
