"""Real processes for tests of crashes and outages: a private redis-server and Celery workers.

Each start waits, with a time-out, until the process answers; each process can be stopped
politely, killed, or (a worker) lose only its pool process. Tests wrap them in fixtures whose
finalizers stop them, so nothing outlives a failed test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from celery import Celery
from kombu import pools

T = TypeVar("T")

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait_for(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Call `check` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


def free_port(first: int, last: int) -> int:
    """A port in [first, last] that nothing listens on at 127.0.0.1."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def redis_server_start(*, port: int, directory: Path, timeout: float = 10) -> RedisServer:
    """A redis-server of the test's own on 127.0.0.1:`port`, nothing persisted."""
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            str(directory / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )
    server = RedisServer(process=process, port=port, directory=directory)
    try:
        wait_for(lambda: _answers(port), timeout=timeout, what=f"redis-server on {port}")
    except TimeoutError:
        server.kill()
        raise
    return server


@dataclass
class Worker:
    process: subprocess.Popen
    name: str
    broker_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes (none with --pool solo)."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in children.split()]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 60) -> int:
        """A warm shutdown (SIGTERM, as a deploy sends): running tasks finish first."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL to the main process and its pool, as when a container is destroyed."""
        pool = self.pool_pids()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for pid in pool:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def celery_worker_start(
    *,
    broker_url: str,
    env: dict[str, str],
    log: Path,
    cwd: Path,
    pool: str = "prefork",
    concurrency: int = 1,
    queues: str = "celery,training",
    timeout: float = 60,
) -> Worker:
    """`celery -A hrp_site worker` on `broker_url`, started when it answers a ping.

    `env` is the worker's whole environment; REDIS_URL is set to the broker."""
    name = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hrp_site",
        "worker",
        "-Q",
        queues,
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "-n",
        name,
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            env={**env, "REDIS_URL": broker_url, "CELERY_TASK_ALWAYS_EAGER": "false"},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process=process, name=name, broker_url=broker_url, log=log)
    control = Celery("ping", broker=broker_url, set_as_current=False)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with {process.returncode}:\n{worker.output()}")
        # A connection of its own: kombu pools connections per URL across apps, and a pooled one
        # may lead to an earlier server on the same port.
        with control.connection_for_write() as connection:
            return bool(control.control.ping(destination=[name], timeout=1, connection=connection))

    try:
        wait_for(ready, timeout=timeout, what=f"worker {name}", interval=0)
    except BaseException:
        worker.kill()
        raise
    finally:
        control.close()
    return worker


@contextlib.contextmanager
def celery_app_broker(app: Celery, broker_url: str) -> Iterator[None]:
    """Publish from this process to `broker_url` for a while (to a private Redis of a test)."""

    def reset() -> None:
        # The app keeps pools of broker connections made from the URL it had when first used,
        # and kombu keeps them per URL for every app: an earlier test's server had this port.
        app._pool = None
        app.amqp._producer_pool = None
        pools.reset()

    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = broker_url, False
    reset()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        reset()
