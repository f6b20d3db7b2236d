import datetime

import pytest
from django.urls import reverse

from hrp_site.testing.sent import commit_callbacks
from predictions.models import ModelVersion
from races.tests.factories import RaceFactory, RunnerFactory

from .factories import ModelVersionFactory, PredictionFactory
from .sent import REFRESH, TRAIN, record_sent_tasks

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:predictions_modelversion_changelist")


def ready_version(algorithm="logit", **values) -> ModelVersion:
    return ModelVersionFactory(
        algorithm=algorithm,
        train_until=datetime.date(2026, 1, 1),
        metrics={"evaluations": {"2026-01-02..2026-02-01": {"pseudo_r2": 0.15}}},
        **values,
    )


def test_model_version_pages_run_a_constant_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    ready_version()
    with django_assert_max_num_queries(7):
        assert staff_client.get(CHANGELIST).status_code == 200
    for n in range(12):
        version = ready_version(algorithm="market" if n % 2 else "xgboost")
        PredictionFactory(model_version=version, win_probability=0.2, fair_odds=5.0)
    with django_assert_max_num_queries(7):
        page = staff_client.get(CHANGELIST)
    assert page.status_code == 200
    assert "0.150" in page.content.decode()
    with django_assert_max_num_queries(8):
        change = staff_client.get(
            reverse("admin:predictions_modelversion_change", args=[version.pk])
        )
    assert change.status_code == 200


def test_activate_action_makes_one_version_active(staff_client):
    first, second = ready_version(), ready_version()

    for version in (first, second):
        staff_client.post(CHANGELIST, {"action": "activate", "_selected_action": [version.pk]})

    assert list(ModelVersion.objects.active().values_list("pk", flat=True)) == [second.pk]


def test_activating_a_queued_version_is_refused_on_the_page(staff_client):
    queued = ModelVersionFactory(status=ModelVersion.Status.QUEUED)

    response = staff_client.post(
        CHANGELIST, {"action": "activate", "_selected_action": [queued.pk]}, follow=True
    )

    assert f"Version {queued.pk} is queued, not ready" in response.content.decode()
    assert not ModelVersion.objects.active().exists()


def test_retrain_action_queues_a_new_version_after_the_commit(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    RaceFactory(status="result", meeting_date=datetime.date(2026, 3, 1))
    version = ready_version()
    sent = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        staff_client.post(CHANGELIST, {"action": "retrain", "_selected_action": [version.pk]})

    new = ModelVersion.objects.exclude(pk=version.pk).get()
    assert (new.algorithm, new.status, new.train_until) == (
        "logit",
        "queued",
        datetime.date(2026, 3, 1),
    )
    assert len(commit_callbacks(callbacks)) == 1  # sent from the commit's callback, not before
    assert sent == [(TRAIN, (new.pk,), {"activate": True})]  # it replaces the old one when ready


def test_retrain_without_results_is_refused_and_queues_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    version = ready_version()

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            CHANGELIST, {"action": "retrain", "_selected_action": [version.pk]}, follow=True
        )

    assert "There are no settled races to train on" in response.content.decode()
    assert ModelVersion.objects.count() == 1
    assert callbacks == []


def test_adding_a_version_queues_its_training(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    sent = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            reverse("admin:predictions_modelversion_add"),
            {
                "algorithm": "lightgbm",
                "train_until": "2026-01-01",
                "seed": 0,
                "hyperparameters": "{}",
            },
        )

    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert version.status == "queued"
    assert len(commit_callbacks(callbacks)) == 1  # sent from the commit's callback, not before
    assert sent == [(TRAIN, (version.pk,), {"activate": False})]


def test_race_action_refreshes_the_selected_races(
    staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    chosen = RaceFactory.create_batch(2)
    RaceFactory()  # not selected
    sent = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        staff_client.post(
            reverse("admin:races_race_changelist"),
            {"action": "refresh_predictions", "_selected_action": [race.pk for race in chosen]},
        )

    assert len(callbacks) == 1  # sent from the commit's callback, not before
    assert sent == [(REFRESH, (), {"race_ids": sorted(race.pk for race in chosen), "day": None})]


def test_prediction_list_shows_percentages_in_constant_queries(
    staff_client, django_assert_max_num_queries
):
    version = ready_version()
    for n in range(15):
        PredictionFactory(
            runner=RunnerFactory(win_odds="4.00"), model_version=version, rank=n % 3 + 1, edge=0.0
        )

    with django_assert_max_num_queries(6):
        page = staff_client.get(reverse("admin:predictions_prediction_changelist"))

    assert page.status_code == 200
    assert "25.0%" in page.content.decode()
    assert "+0.0%" in page.content.decode()
