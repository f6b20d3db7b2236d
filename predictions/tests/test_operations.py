"""The operations the predictions' tasks end: a training and a refresh asked for through the
API report how they went."""

import pytest

from predictions import tasks
from predictions.models import ModelVersion
from races.models import Operation
from races.services.operations import operation_create
from races.tests.factories import RaceFactory

from .factories import ModelVersionFactory


def queued(kind: str) -> Operation:
    return operation_create(kind=kind, requested_by=None, parameters={})


@pytest.mark.django_db
def test_a_training_that_fails_fails_its_operation_with_the_reason():
    # given: a queued version with nothing to train on
    version = ModelVersionFactory(status=ModelVersion.Status.QUEUED, metrics={})
    operation = queued(Operation.Kind.MODEL_TRAIN)

    # when: the task runs it, and raises
    result = tasks.train_model_task.apply(
        args=(version.pk,), kwargs={"operation_id": operation.pk}, throw=False
    )

    # then: the version and the operation say why
    version.refresh_from_db()
    operation.refresh_from_db()
    assert result.failed()
    assert version.status == ModelVersion.Status.FAILED
    assert operation.status == "failed"
    assert operation.error == "no settled races up to 2023-12-31"
    assert operation.error in version.error


@pytest.mark.django_db
def test_a_refresh_ends_its_operation_done_with_its_summary():
    race = RaceFactory()
    operation = queued(Operation.Kind.PREDICTIONS_REFRESH)

    result = tasks.refresh_predictions_task.apply(
        kwargs={"race_ids": [race.pk], "operation_id": operation.pk}
    ).get()

    operation.refresh_from_db()
    assert (operation.status, operation.error) == ("done", "")
    assert operation.outcome == result
    assert operation.started_at <= operation.finished_at
