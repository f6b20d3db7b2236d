"""Predictions follow the races app: a provider sync's cards get every model's predictions."""

import datetime

import pytest

from predictions.models import Prediction
from predictions.services.versions import model_version_train_new
from races.demo import demo_data_seed
from races.models import Runner
from races.services.provider_sync import provider_sync
from races.tests.providers.recorded import DAY


@pytest.mark.django_db
def test_synced_cards_get_predictions_after_the_commit(
    racingapi_settings, django_capture_on_commit_callbacks, celery_eager
):
    # given: models trained on demo results before the synced day
    demo_data_seed(seed=2, today=DAY - datetime.timedelta(days=1), days_ahead=0, history_days=20)
    for algorithm in ("market", "logit"):
        model_version_train_new(algorithm=algorithm, train_until=DAY - datetime.timedelta(days=2))
    starters = Runner.objects.filter(
        race__source="theracingapi", race__meeting_date=DAY, non_runner=False
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        provider_sync(provider="theracingapi", day=DAY)
        # then: nothing is predicted before the sync commits
        assert not Prediction.objects.exists()

    # then: every starter of the synced cards has a prediction from each model
    assert starters.count() > 0
    assert Prediction.objects.filter(runner__in=starters).count() == 2 * starters.count()
