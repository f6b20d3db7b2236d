"""Sending tasks to a real, private Redis that is up, down, hanging, and back."""

import json
import signal
import time

import pytest
import redis
from django.db import transaction

from hrp_site.queueing import QueueingError, task_send, task_send_on_commit
from hrp_site.testing.processes import redis_server_start
from predictions.tasks import refresh_predictions_task


def queued_headers(server) -> list[dict]:
    """The Celery headers (id, task, kwargsrepr, ...) of the messages waiting on the queue."""
    with redis.Redis(port=server.port) as client:
        return [json.loads(body)["headers"] for body in client.lrange("celery", 0, -1)]


def queued_ids(server) -> list[str]:
    return [headers["id"] for headers in queued_headers(server)]


def test_a_sent_task_is_on_the_queue(publish_to_private_redis):
    task_id = task_send(refresh_predictions_task, race_ids=[1, 2])

    assert queued_ids(publish_to_private_redis) == [task_id]


def test_a_broker_that_is_down_fails_the_send_at_once(publish_to_private_redis):
    # given
    server = publish_to_private_redis
    server.kill()

    # when
    started = time.monotonic()
    with pytest.raises(QueueingError) as raised:
        task_send(refresh_predictions_task, race_ids=[1])
    took = time.monotonic() - started
    print(f"\nsend to a Redis that refuses connections failed after {took:.2f} s")

    # then
    assert str(raised.value) == (
        f"could not be queued: Error 111 connecting to 127.0.0.1:{server.port}. Connection refused"
    )
    assert took < 5  # kombu's own default would retry for as long as its policy lets it


def test_a_hanging_broker_fails_the_send_within_the_socket_time_outs(publish_to_private_redis):
    # given: a Redis that accepts connections and never answers
    server = publish_to_private_redis
    task_send(refresh_predictions_task, race_ids=[1])  # a pooled connection, as in a web process
    server.process.send_signal(signal.SIGSTOP)

    try:
        started = time.monotonic()
        with pytest.raises(QueueingError, match="^could not be queued: Timeout"):
            task_send(refresh_predictions_task, race_ids=[2])
        took = time.monotonic() - started
    finally:
        server.process.send_signal(signal.SIGCONT)
    print(f"\nsend to a Redis that hangs failed after {took:.2f} s")

    # three tries of a 5 s socket time-out, well within gunicorn's 60 s
    assert took < 30


def test_sends_work_again_once_the_broker_is_back_without_a_restart(
    publish_to_private_redis, tmp_path
):
    # given: a send that failed while Redis was down
    server = publish_to_private_redis
    task_send(refresh_predictions_task, race_ids=[1])
    server.kill()
    with pytest.raises(QueueingError):
        task_send(refresh_predictions_task, race_ids=[2])

    # when: Redis comes back on the same port (empty, as after a restart without persistence)
    back = redis_server_start(port=server.port, directory=tmp_path / "redis-back")
    try:
        task_id = task_send(refresh_predictions_task, race_ids=[3])
        assert queued_ids(back) == [task_id]
    finally:
        back.kill()


@pytest.mark.django_db(transaction=True)
def test_a_send_after_commit_reports_a_down_broker_where_the_transaction_ends(
    publish_to_private_redis,
):
    publish_to_private_redis.kill()
    errors, before_commit = [], []

    def send_in_a_transaction():
        with transaction.atomic():
            task_send_on_commit(refresh_predictions_task, race_ids=[1], on_error=errors.append)
            before_commit.extend(errors)

    with pytest.raises(QueueingError):
        send_in_a_transaction()

    assert before_commit == []
    assert [str(error).split(":")[0] for error in errors] == ["could not be queued"]


@pytest.mark.django_db(transaction=True)
def test_a_send_outside_a_transaction_happens_at_once(publish_to_private_redis):
    task_send_on_commit(refresh_predictions_task, race_ids=[1])

    assert [
        (headers["task"], headers["kwargsrepr"])
        for headers in queued_headers(publish_to_private_redis)
    ] == [("predictions.tasks.refresh_predictions_task", "{'race_ids': [1]}")]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_transaction_rolls_back(publish_to_private_redis):
    def send_then_fail():
        with transaction.atomic():
            task_send_on_commit(refresh_predictions_task, race_ids=[1])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        send_then_fail()

    assert queued_ids(publish_to_private_redis) == []
