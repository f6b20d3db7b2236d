"""Real processes for tests and scripts: private PostgreSQL, redis-server, Celery workers, gunicorn.

Fault tests stop, pause, kill and restart servers; they must never touch the machine's shared
ones. Each server here lives in a folder of its own, listens on 127.0.0.1 only, on a port from
HRP_TEST_PORTS ("62000-62999"; any free port when unset). Each start waits, with a time-out,
until the process answers; tests wrap them in fixtures (hrp_site.testing.fixtures) whose
finalizers stop them, so nothing outlives a failed test.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg2
from celery import Celery
from kombu import pools

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
BINARIES = ("initdb", "pg_ctl", "postgres", "redis-server")


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def wait_for(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Call `check` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


# Ports given out but perhaps not bound yet (a server made now, started later).
_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on at 127.0.0.1, from HRP_TEST_PORTS when it is set."""
    first, _, last = os.environ.get("HRP_TEST_PORTS", "").partition("-")
    candidates = range(int(first), int(last) + 1) if first and last else [0] * 20
    for port in candidates:
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = probe.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port
    raise RuntimeError(f"no free port in HRP_TEST_PORTS={os.environ.get('HRP_TEST_PORTS')}")


class RedisServer:
    """A redis-server of a test's own, nothing persisted; `pause()` hangs it (SIGSTOP), `kill()`
    takes it away and `start()` brings it back on the same port."""

    def __init__(self, *, port: int | None = None, directory: Path | None = None) -> None:
        self.port = port or free_port()
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="hrp-redis-"))
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 20) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for(self.is_ready, timeout=timeout, what=f"redis-server on {self.port}")
        except TimeoutError:
            self.kill()
            raise

    def is_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # A paused server dies of SIGKILL as well.
            self.process.kill()
        self.process.wait(timeout=20)

    stop = kill

    def close(self) -> None:
        self.kill()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def redis_server_start(
    *, port: int | None = None, directory: Path | None = None, timeout: float = 20
) -> RedisServer:
    """A redis-server of the caller's own on 127.0.0.1, answering when this returns."""
    server = RedisServer(port=port, directory=directory)
    server.start(timeout=timeout)
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


def _demote_to(user: str) -> Callable[[], None]:
    # PostgreSQL refuses to run as root, which CI and this machine's sessions are.
    entry = pwd.getpwnam(user)

    def demote() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return demote


class PrivatePostgres:
    """A throw-away PostgreSQL cluster; `stop()` and `start()` make and end an outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hrp-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def _run(self, *args: str) -> None:
        subprocess.run(
            args,
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            cwd=self.root,
            preexec_fn=_demote_to("postgres") if self._as_root else None,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session, as a fail-over or a restart does; `immediate` crashes."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def is_ready(self) -> bool:
        try:
            psycopg2.connect(self.url("postgres"), connect_timeout=1).close()
        except psycopg2.OperationalError:
            return False
        return True

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def app_environment(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The production switches app-spec.yaml sets, pointed at private servers on 127.0.0.1."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        "DJANGO_API_NUM_PROXIES": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
        **extra,
    }


def run(
    command: list[str], *, env: dict[str, str], timeout: float = 60, check: bool = False
) -> subprocess.CompletedProcess:
    """Run `command` to its end in the repository with `env`: no input, its output as text."""
    return subprocess.run(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def start_manage(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """Start `python manage.py ARGS` with `env`; its output is read with `communicate()`."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, *, timeout: float = 300) -> str:
    """Wait for a `start_manage` process; its standard output, or an error with its stderr."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(process.args[1:])} failed:\n{stderr[-4000:]}")
    return stdout


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run `python manage.py ARGS` with `env`; its standard output."""
    return finish(start_manage(*args, env=env), timeout=timeout)


def deploy(*, env: dict[str, str]) -> None:
    """What a deploy does before the web service starts: migrate, and collectstatic as the image
    build runs it (DEBUG is off, so pages need the hashed files' manifest). At once: both are
    slow and neither needs the other."""
    static = start_manage("collectstatic", "--no-input", env=env)
    try:
        manage("migrate", "--no-input", env=env)
    finally:
        finish(static)


@contextlib.contextmanager
def private_site(**extra: str) -> Iterator[dict[str, str]]:
    """A private PostgreSQL and Redis, deployed to (migrate, collectstatic): yields the app's
    environment for them (`app_environment` with `extra`), and stops both afterwards."""
    postgres, redis = PrivatePostgres(), RedisServer()
    try:
        postgres.start()
        redis.start()
        env = app_environment(
            database_url=postgres.create_database("hrp"), redis_url=redis.url(0), **extra
        )
        deploy(env=env)
        yield env
    finally:
        redis.close()
        postgres.close()


def dockerfile_web_command() -> list[str]:
    """The web service's command, read from the Dockerfile's CMD so tests run what deploys.

    Only the bind address changes: tests listen on 127.0.0.1, never on every interface."""
    line = next(
        line
        for line in (REPO_ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD ")
    )
    command = json.loads(line.removeprefix("CMD "))
    return [part.replace("0.0.0.0:", "127.0.0.1:") for part in command]


class Gunicorn:
    """The web service started as the image starts it (Dockerfile CMD), with `env`."""

    def __init__(self, *, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.root = Path(tempfile.mkdtemp(prefix="hrp-web-"))
        self.log = self.root / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> None:
        # `sh -c "exec gunicorn ..."`: the process is gunicorn's master, as PID 1 is in the image.
        self.process = subprocess.Popen(
            dockerfile_web_command(),
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=timeout, what="gunicorn start")

    def _answers(self) -> bool:
        # The master binds the port before its workers have loaded Django: wait for an answer.
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-4000:]}")
        try:
            http_get(f"{self.url}/healthz/", timeout=5)
        except OSError:
            return False
        return True

    def terminate(self, *, timeout: float = 60) -> int:
        """SIGTERM to the master, as a deploy sends it; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def close(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10):
    """(status, headers, body) of a GET that follows no redirect; HTTP errors are answers too."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
