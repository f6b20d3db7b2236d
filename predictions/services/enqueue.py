"""What goes to the Celery queues: trainings (new, sent again, lost, weekly) and refreshes.

`predictions.tasks` imports the services it calls, this one included; so this module imports each
task it sends inside the function that sends it (Celery's task-inside-service pattern, as in
HackSoft's styleguide example), the one local import the apps keep.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from hrp_site.queueing import QueueingError, task_send_on_commit
from races.services.operations import operation_end

from .. import selectors
from ..models import ModelVersion
from .base import PredictionError
from .versions import (
    STALE_TRAINING,
    free_to_train,
    model_version_create,
    model_version_fail,
)


def model_version_enqueue_training(
    *, version: ModelVersion, activate: bool = False, operation_id: int | None = None
) -> None:
    """Send the version to the training queue once the current transaction commits; the task
    ends the operation `operation_id` names, if any.

    If the broker does not take it, the version and the operation are failed with the reason
    (nothing would ever train it) and `QueueingError` is raised to the caller.
    """

    version_id = version.pk
    version.activate_when_ready, version.queued_at = activate, timezone.now()
    ModelVersion.objects.filter(pk=version_id).update(
        activate_when_ready=activate, queued_at=version.queued_at
    )

    def fail(exc: QueueingError) -> None:
        model_version_fail(version_id=version_id, reason=str(exc))
        operation_end(operation_id=operation_id, error=str(exc))

    from ..tasks import train_model_task  # the tasks import this module (see its docstring)

    extra = {} if operation_id is None else {"operation_id": operation_id}
    task_send_on_commit(train_model_task, version_id, activate=activate, on_error=fail, **extra)


def model_version_requeue(*, version: ModelVersion, operation_id: int | None = None) -> bool:
    """Staff send a queued, failed or stuck version to the training queue again; its attempts
    count from zero again.

    Refuses (False) a version that is ready or whose training claim is still fresh: a worker may
    still be training it.
    """
    requeued = ModelVersion.objects.filter(free_to_train(), pk=version.pk).update(
        status=ModelVersion.Status.QUEUED,
        progress="sent again",
        task_id="",
        attempts=0,
        error="",
        finished_at=None,
    )
    if requeued:
        version.refresh_from_db()
        model_version_enqueue_training(
            version=version, activate=version.activate_when_ready, operation_id=operation_id
        )
    return requeued == 1


def model_versions_requeue_lost() -> list[int]:
    """The sweep: send back to the queue every version whose task was lost: still "training"
    past `STALE_TRAINING` (a live worker would have hit the hard time limit by then), or still
    "queued" that long after it was sent (Redis lost the message, or kombu did: a worker killed
    between taking a message and recording it as unacknowledged). Their attempts keep counting,
    so a training that kills its worker every time ends failed; a message sent twice is
    harmless, since only one task can claim the version."""
    stale = timezone.now() - STALE_TRAINING
    lost = Q(status=ModelVersion.Status.TRAINING, started_at__lt=stale) | Q(
        status=ModelVersion.Status.QUEUED, queued_at__lt=stale
    )
    requeued = []
    for version in ModelVersion.objects.filter(lost):
        moved = ModelVersion.objects.filter(lost, pk=version.pk).update(
            status=ModelVersion.Status.QUEUED, progress="re-queued: its task was lost"
        )
        if moved:
            model_version_enqueue_training(version=version, activate=version.activate_when_ready)
            requeued.append(version.pk)
    return requeued


def model_version_retrain(
    *, version: ModelVersion, activate: bool = False, operation_id: int | None = None
) -> ModelVersion:
    """A new version like `version`, trained on every race settled before today."""
    last_day = selectors.last_settled_day()
    if last_day is None:
        raise PredictionError("there are no settled races to train on")
    new = model_version_create(
        algorithm=version.algorithm,
        train_until=last_day,
        hyperparameters=version.hyperparameters,
        seed=version.seed,
    )
    model_version_enqueue_training(version=new, activate=activate, operation_id=operation_id)
    return new


def predictions_enqueue_refresh(
    *,
    race_ids: Iterable[int] | None = None,
    day: datetime.date | None = None,
    operation_id: int | None = None,
) -> None:
    """Refresh the races' predictions, or a day's (default: every declared race), after the
    commit; `QueueingError` (the operation failed with it) if the broker does not take it."""
    ids = None if race_ids is None else list(race_ids)
    on_day = None if day is None else day.isoformat()
    from ..tasks import refresh_predictions_task  # the tasks import this module

    def fail(exc: QueueingError) -> None:
        operation_end(operation_id=operation_id, error=str(exc))

    extra = {} if operation_id is None else {"operation_id": operation_id}
    task_send_on_commit(refresh_predictions_task, race_ids=ids, day=on_day, on_error=fail, **extra)


def model_versions_retrain_stale() -> list[int]:
    """The weekly retrain: a new version of each active algorithm on every settled race so far,
    activated once it is ready; an algorithm whose retraining is already queued or under way is
    left alone."""
    last_result = selectors.last_settled_day()
    if last_result is None:
        return []
    pending = ModelVersion.objects.filter(
        train_until__gte=last_result,
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING],
    ).values_list("algorithm", flat=True)
    stale = ModelVersion.objects.active().filter(train_until__lt=last_result)
    return [
        model_version_retrain(version=active, activate=True).pk
        for active in stale.exclude(algorithm__in=list(pending))
    ]
