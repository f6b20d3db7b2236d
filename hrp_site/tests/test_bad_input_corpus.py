"""The bad-input corpus (hrp_site.testing.corpus) sent to the site as it runs in production:
gunicorn started as the image starts it, outside debug mode, on PostgreSQL.

Each case must get a 4xx (or, for an HTML form, the form redrawn with its error) whose body names
what was wrong (JSON under /api/), never a 5xx, and leave every table as it was. Failed log-ins
are the one write a bad request may make: django-axes records them (its tables are left out of
the comparison), as sessions are.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
from collections import Counter
from urllib.parse import urlencode

import psycopg2
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken

from accounts.tests.factories import UserFactory
from hrp_site.testing import corpus, processes
from hrp_site.testing.corpus import ANON, CASES, MEMBER, MEMBER_TOKEN, STAFF, STAFF_TOKEN, Case
from hrp_site.testing.required import require_postgresql
from predictions.models import ModelVersion
from predictions.tests.factories import ModelVersionFactory, PredictionFactory
from races.tests.factories import RacecourseFactory, RaceFactory, RunnerFactory

# The test database is set up for marked tests only; the rows the server reads are committed by
# the `site` fixture, outside each test's transaction, and flushed at its end.
pytestmark = pytest.mark.django_db

# Any 32 letters and digits serve as a CSRF secret; the cookie and the header carry the same one.
CSRF = "CorpusCsrfSecret0123456789abcdef"
TIMEOUT = 30
# Not compared: what a refused log-in records (django-axes) and the sessions.
UNCOMPARED = ("axes_%", "django_session")

results: Counter[tuple[str, str]] = Counter()


def _signed_in(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _seed() -> dict[str, object]:
    racecourse = RacecourseFactory(code="ST", name="Sha Tin")
    race = RaceFactory(racecourse=racecourse, meeting_date=timezone.localdate())
    runners = RunnerFactory.create_batch(3, race=race)
    version = ModelVersionFactory(is_active=True, status=ModelVersion.Status.READY)
    PredictionFactory(runner=runners[0], model_version=version)
    member = UserFactory(
        username="member", email="member@example.com", password="a-long-member-password"
    )
    UserFactory(username="taken", email="taken@example.com")
    staff = UserFactory(
        username="staff",
        email="staff@example.com",
        password="a-long-staff-password",
        is_staff=True,
        is_superuser=True,
    )
    return {
        "racecourse": racecourse.pk,
        "race": race.pk,
        "runner": runners[1].pk,
        "horse": runners[0].horse_id,
        "version": version.pk,
        "sessions": {MEMBER: _signed_in(member), STAFF: _signed_in(staff)},
        "tokens": {
            MEMBER_TOKEN: AuthToken.objects.create(member)[1],
            STAFF_TOKEN: AuthToken.objects.create(staff)[1],
        },
    }


class Fingerprint:
    """Each compared table's row count and a digest of its rows, in one query."""

    def __init__(self, database_url: str) -> None:
        self.connection = psycopg2.connect(database_url)
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' AND NOT (table_name LIKE %s OR table_name = %s) "
                "ORDER BY table_name",
                UNCOMPARED,
            )
            tables = [row[0] for row in cursor.fetchall()]
        self.query = " UNION ALL ".join(
            f"SELECT '{table}', count(*), "
            f"md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
            for table in tables
        )

    def take(self) -> dict[str, tuple[int, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute(self.query)
            return {table: (count, digest) for table, count, digest in cursor.fetchall()}

    def close(self) -> None:
        self.connection.close()


def _changes(before: dict, after: dict) -> dict[str, str]:
    return {
        table: f"{before[table][0]} -> {after[table][0]} rows"
        if before[table][0] != after[table][0]
        else "rows changed"
        for table in before
        if before[table] != after[table]
    }


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """Seeded rows, committed in the test database, and gunicorn serving them."""
    require_postgresql("the bad-input corpus runs against PostgreSQL")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    database_url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = processes.app_environment(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", ""),
        # As behind the platform's proxy, so that X-Forwarded-For is read (and can be wrong).
        DJANGO_API_NUM_PROXIES="1",
        DJANGO_API_THROTTLE_ANON="100000/minute",
        DJANGO_API_THROTTLE_USER="100000/minute",
        DJANGO_API_THROTTLE_LOGIN_ADDRESS="100000/minute",
        DJANGO_API_THROTTLE_LOGIN_USERNAME="100000/minute",
        DJANGO_AXES_FAILURE_LIMIT="100000",
    )
    static = processes.start_manage("collectstatic", "--no-input", env=env)
    # The sessions made here are signed with the server's key.
    with django_db_blocker.unblock(), override_settings(SECRET_KEY=env["DJANGO_SECRET_KEY"]):
        seeded = _seed()
    fingerprint = None
    web = processes.Gunicorn(env=env)
    try:
        processes.finish(static)
        web.start()
        fingerprint = Fingerprint(database_url)
        first = fingerprint.take()
        yield {**seeded, "web": web, "fingerprint": fingerprint, "first": first, "last": first}
    finally:
        if fingerprint is not None:
            fingerprint.close()
        errors = _server_errors(web.log.read_text(errors="replace"))
        web.close()
        if errors:
            print(f"\n--- gunicorn's log: {len(errors)} server errors ---")
            print("\n".join(errors))
        with django_db_blocker.unblock():
            # The rest of the session expects empty tables, as each test's rollback leaves them.
            call_command("flush", interactive=False, verbosity=0)


def _server_errors(log: str) -> list[str]:
    """Each logged 5xx: the request and the last line of its exception."""
    errors = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("status_code", 0) >= 500:
            # The exception's own line, not PostgreSQL's pointer lines after it.
            raised = [
                text
                for text in (record.get("exc_info") or "").splitlines()
                if text and not text[0].isspace() and not text.startswith(("Traceback", "The "))
            ]
            errors.append(f"{record.get('request')}: {(raised or [''])[-1][:300]}")
    return errors


def _path(site, path: str) -> str:
    return path.format(**{name: site[name] for name in ("race", "runner", "horse", "version")})


def _request(site, case: Case) -> tuple[list[tuple[str, str]], bytes]:
    """The case's headers and body, with its user's credentials and the seeded rows' ids."""
    headers = {"Host": f"127.0.0.1:{site['web'].port}", "Accept": "*/*"}
    cookies = []
    if case.auth in (MEMBER, STAFF):
        cookies.append(f"sessionid={site['sessions'][case.auth]}")
    if case.auth in (MEMBER_TOKEN, STAFF_TOKEN):
        headers["Authorization"] = f"Token {site['tokens'][case.auth]}"
    if case.csrf:
        cookies.append(f"csrftoken={CSRF}")
        headers["X-CSRFToken"] = CSRF
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    body = b""
    if case.body is not None:
        body = case.body
        headers["Content-Type"] = case.content_type
    elif case.json is not None:
        body = json.dumps(case.json).encode()
        for name in ("racecourse", "race"):
            body = body.replace(f'"@{name}"'.encode(), str(site[name]).encode())
        headers["Content-Type"] = "application/json"
    elif case.form is not None:
        body = urlencode(case.form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.update(case.headers)
    if body or case.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    return list(headers.items()), body


def send(site, case: Case) -> tuple[int, str, str]:
    """(status, content type, body) of the case sent to the site."""
    if case.raw is not None:
        return _send_raw(site, case)
    headers, body = _request(site, case)
    client = http.client.HTTPConnection("127.0.0.1", site["web"].port, timeout=TIMEOUT)
    try:
        client.putrequest(
            case.method, _path(site, case.path), skip_host=True, skip_accept_encoding=True
        )
        for name, value in headers:
            client.putheader(name, value)
        # Answered before the body was all sent (a refused size): the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            client.endheaders(body or None)
        response = client.getresponse()
        return (
            response.status,
            response.getheader("Content-Type", ""),
            response.read().decode(errors="replace"),
        )
    finally:
        client.close()


def _send_raw(site, case: Case) -> tuple[int, str, str]:
    raw = (
        case.raw.replace(b"{race_path}", _path(site, case.path).encode())
        .replace(b"{token}", site["tokens"][STAFF_TOKEN].encode())
        .replace(b"{member_token}", site["tokens"][MEMBER_TOKEN].encode())
        .replace(b"{csrf}", CSRF.encode())
    )
    with socket.create_connection(("127.0.0.1", site["web"].port), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)  # a body shorter than its Content-Length ends here
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return status, content_type, body.decode(errors="replace")


def _explained(case: Case, status: int, content_type: str, body: str) -> list[str]:
    """What is wrong with the answer to `case`, if anything."""
    problems = []
    if status not in case.statuses:
        problems.append(f"status {status}")
    if case.is_api and case.json_errors:
        if not content_type.startswith("application/json"):
            problems.append(f"not JSON ({content_type or 'no content type'})")
        else:
            try:
                json.loads(body)
            except ValueError:
                problems.append("invalid JSON")
    if not any(word.lower() in body.lower() for word in case.expect):
        problems.append(f"no mention of {' / '.join(case.expect)}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.category}:{case.id}")
def test_a_bad_request_is_refused_saying_why_and_changes_nothing(site, case):
    # when
    status, content_type, body = send(site, case)
    after = site["fingerprint"].take()

    # then
    changed = _changes(site["last"], after)
    site["last"] = after
    problems = _explained(case, status, content_type, body)
    if changed:
        problems.append(f"database changed: {changed}")
    results[(case.category, "failed" if problems else "passed")] += 1
    excerpt = " ".join(body.split())[:300]
    print(f"{case.id}: {status} {excerpt[:160]}")  # the answers, with -s
    assert not problems, (
        f"{case.method} {_path(site, case.path)}: {'; '.join(problems)}; got {excerpt!r}"
    )


def test_the_database_is_as_seeded_after_the_whole_corpus(site):
    assert _changes(site["first"], site["fingerprint"].take()) == {}


def test_the_corpus_holds_at_least_150_cases_across_pages_log_in_api_reads_and_staff_writes():
    counts = corpus.counts()
    print(f"\nbad-input corpus: {json.dumps(counts)}")
    for (category, outcome), number in sorted(results.items()):
        print(f"  {category} {outcome}: {number}")

    assert len({case.id for case in CASES}) == len(CASES)
    assert counts["total"] >= 150
    assert {category: counts[category] >= 20 for category in corpus.CATEGORIES} == dict.fromkeys(
        corpus.CATEGORIES, True
    )
    assert {case.auth for case in CASES} == {ANON, MEMBER, STAFF, MEMBER_TOKEN, STAFF_TOKEN}
