"""With the broker down, the admin and the API say the job could not be queued and leave no row
waiting for a task that was never sent. A private Redis is started, then killed."""

import datetime

import pytest
from django.urls import reverse

from predictions.models import ModelVersion, Prediction
from races.models import Operation
from races.tests.factories import RaceFactory

from .factories import ModelVersionFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = reverse("admin:predictions_modelversion_changelist")


@pytest.fixture
def settled_race():
    return RaceFactory(status="result", meeting_date=datetime.date(2026, 3, 1))


def page_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_api_retrain_answers_503_and_fails_the_new_version(staff_api, settled_race, broker_down):
    version = ModelVersionFactory()

    response = staff_api.post(reverse("model-version-retrain", args=[version.pk]), {})

    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"The training {broker_down}.")
    assert response.json()["detail"].endswith("Try again once the queue is back.")
    new = ModelVersion.objects.exclude(pk=version.pk).get()
    assert (new.status, new.progress, new.is_active) == ("failed", "failed", False)
    assert new.error.startswith(broker_down)
    assert not ModelVersion.objects.filter(status="queued").exists()
    operation = Operation.objects.get()  # failed with the reason: its poll ends
    assert (operation.status, operation.error.startswith(broker_down)) == ("failed", True)


def test_api_refresh_answers_503_and_writes_nothing(staff_api, broker_down):
    race = RaceFactory()

    response = staff_api.post(reverse("predictions-refresh"), {"race_ids": [race.pk]})

    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"The refresh {broker_down}.")
    assert not Prediction.objects.exists()
    operation = Operation.objects.get()
    assert (operation.status, operation.error.startswith(broker_down)) == ("failed", True)


def test_admin_add_keeps_the_version_failed_with_the_reason_and_says_so(staff_client, broker_down):
    response = staff_client.post(
        reverse("admin:predictions_modelversion_add"),
        {"algorithm": "lightgbm", "train_until": "2026-01-01", "seed": 0, "hyperparameters": "{}"},
        follow=True,
    )

    version = ModelVersion.objects.get()
    assert response.redirect_chain == [(CHANGELIST, 302)]
    errors = [text for level, text in page_messages(response) if level == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(f"The version was saved but its training {broker_down}.")
    assert (version.status, version.error.startswith(broker_down)) == ("failed", True)


def test_admin_retrain_says_the_training_could_not_be_queued(
    staff_client, settled_race, broker_down
):
    version = ModelVersionFactory()

    response = staff_client.post(
        CHANGELIST, {"action": "retrain", "_selected_action": [version.pk]}, follow=True
    )

    new = ModelVersion.objects.exclude(pk=version.pk).get()
    [(level, text)] = page_messages(response)
    assert (level, text.startswith(f"The new version's training {broker_down}.")) == ("error", True)
    assert (new.status, new.error.startswith(broker_down)) == ("failed", True)


def test_admin_train_of_a_failed_version_says_it_could_not_be_queued(staff_client, broker_down):
    version = ModelVersionFactory(status="failed", error="an earlier error")

    response = staff_client.post(
        CHANGELIST, {"action": "train", "_selected_action": [version.pk]}, follow=True
    )

    version.refresh_from_db()
    [(level, text)] = page_messages(response)
    assert (level, text.startswith(f"{version}: training {broker_down}")) == ("error", True)
    assert (version.status, version.error.startswith(broker_down)) == ("failed", True)


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("admin:predictions_modelversion_changelist", "refresh_declared"),
        ("admin:races_race_changelist", "refresh_predictions"),
    ],
)
def test_admin_refresh_says_it_could_not_be_queued(staff_client, broker_down, changelist, action):
    selected = ModelVersionFactory() if "modelversion" in changelist else RaceFactory()

    response = staff_client.post(
        reverse(changelist), {"action": action, "_selected_action": [selected.pk]}, follow=True
    )

    [(level, text)] = page_messages(response)
    assert (level, text.startswith(f"The refresh {broker_down}.")) == ("error", True)
    assert not Prediction.objects.exists()


def test_api_train_answers_503_and_keeps_the_version_failed(staff_api, broker_down):
    version = ModelVersionFactory(status="failed", error="an earlier error")

    response = staff_api.post(reverse("model-version-train", args=[version.pk]))

    version.refresh_from_db()
    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"The training {broker_down}.")
    assert (version.status, version.error.startswith(broker_down)) == ("failed", True)
    operation = Operation.objects.get()
    assert (operation.status, operation.error.startswith(broker_down)) == ("failed", True)
