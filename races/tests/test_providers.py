"""Provider clients against a real local HTTP server serving the recorded responses."""

import base64
import datetime
import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from races.models import ExternalRecord, ProviderSync, Race, Racecourse, Runner
from races.providers.base import (
    ProviderError,
    ProviderTransientError,
    RaceResult,
    RunnerResult,
)
from races.providers.betfair import GET_RACECARD, LIST_RACES, BetfairProvider
from races.providers.http import JsonClient
from races.providers.theracingapi import RACECARDS_PATH, TheRacingApiProvider
from races.selectors import providers_status
from races.services import (
    provider_sync,
    provider_sync_create,
    provider_sync_enqueue,
    race_results_store,
)
from races.tasks import sync_provider_task, sync_providers_task
from races.tests.hkracing_csv import small_pair

DAY = datetime.date(2025, 12, 17)
EMPTY_DAY = datetime.date(2025, 12, 18)
USERNAME, PASSWORD = "hrp-user", "s3cret-pa55word"
BASIC = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
NO_RESULTS = {
    "races_settled": 0,
    "races_abandoned": 0,
    "results_unchanged": 0,
    "results_without_placings": 0,
    "results_unmatched": 0,
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        )
        route = self.server.routes.get(urllib.parse.urlsplit(self.path).path)
        status, payload = route(self, body) if route else (404, b'{"detail": "Not found"}')
        if status is None:
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting (the time-out tests)

    def log_message(self, format, *args):
        pass


def scripted(*answers):
    """A route answering in turn with each (status, body), then repeating the last; a number
    instead of a status sleeps that many seconds before answering 200."""
    remaining = list(answers)

    def route(handler, body):
        status, payload = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(status, float):
            time.sleep(status)
            return 200, payload
        return status, payload

    return route


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes = {}
    httpd.requests = []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def racingapi(server, shared_data_dir):
    """The Racing API's racecards endpoint serving the recorded days."""
    folder = shared_data_dir / "theracingapi"

    def racecards(handler, body):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
        path = folder / f"racecards_{query['day'][0]}.json"
        if handler.headers.get("Authorization") != BASIC:
            return 401, b'{"detail": "Invalid credentials"}'
        return (200, path.read_bytes()) if path.is_file() else (404, b'{"detail": "no day"}')

    server.routes[RACECARDS_PATH] = racecards
    return server


@pytest.fixture
def racingapi_settings(settings, racingapi):
    settings.HRP_PROVIDERS = ["theracingapi"]
    settings.THERACINGAPI_URL = racingapi.url
    settings.THERACINGAPI_USERNAME = USERNAME
    settings.THERACINGAPI_PASSWORD = PASSWORD
    settings.PROVIDER_HTTP_RETRIES = 1
    settings.PROVIDER_HTTP_TIMEOUT = 5
    return settings


def client_for(server, **options):
    options = {"timeout": 2.0, "retries": 3, "backoff": 0, **options}
    return JsonClient(
        provider="testprovider",
        base_url=server.url,
        headers={"Authorization": BASIC},
        **options,
    )


# The HTTP client


def test_client_retries_a_500_and_returns_the_next_answer(server):
    # given
    server.routes["/cards"] = scripted((500, b"busy"), (200, b'{"ok": true}'))

    # when
    payload = client_for(server).get("/cards", {"day": "2025-12-17"})

    # then
    assert payload == {"ok": True}
    assert [r["path"] for r in server.requests] == ["/cards?day=2025-12-17"] * 2


def test_client_gives_up_after_its_tries_naming_provider_request_status_and_body(server):
    # given
    server.routes["/cards"] = scripted((500, b'{"error": "database is down"}' + b"x" * 500))

    # when
    with pytest.raises(ProviderTransientError) as caught:
        client_for(server, retries=3).get("/cards", {"day": "2025-12-17"})

    # then
    message = str(caught.value)
    assert message == (
        f"testprovider: GET {server.url}/cards?day=2025-12-17 -> HTTP 500: "
        '{"error": "database is down"}' + "x" * 171
    )
    assert len(server.requests) == 3


def test_client_times_out_and_retries(server):
    # given
    server.routes["/slow"] = scripted((1.0, b"{}"))

    # when
    with pytest.raises(ProviderTransientError) as caught:
        client_for(server, timeout=0.2, retries=2).get("/slow")

    # then
    assert str(caught.value) == f"testprovider: GET {server.url}/slow -> no answer within 0.2s"
    assert len(server.requests) == 2


def test_client_rejects_malformed_json_without_retrying(server):
    # given
    server.routes["/cards"] = scripted((200, b'{"racecards": [tru'))

    # when
    with pytest.raises(ProviderError) as caught:
        client_for(server).get("/cards")

    # then
    assert not isinstance(caught.value, ProviderTransientError)
    assert str(caught.value) == (
        f'testprovider: GET {server.url}/cards -> HTTP 200, not JSON: {{"racecards": [tru'
    )
    assert len(server.requests) == 1


def test_401_is_not_retried_and_the_credentials_never_show(racingapi, caplog):
    # given
    provider = TheRacingApiProvider(
        base_url=racingapi.url, username=USERNAME, password="wrong", backoff=0
    )
    caplog.set_level(logging.DEBUG)

    # when
    with pytest.raises(ProviderError) as caught:
        provider.racecards(DAY)

    # then
    assert not isinstance(caught.value, ProviderTransientError)
    assert str(caught.value) == (
        f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=2025-12-17 -> HTTP 401: "
        '{"detail": "Invalid credentials"}'
    )
    assert len(racingapi.requests) == 1
    wrong = base64.b64encode(f"{USERNAME}:wrong".encode()).decode()
    assert racingapi.requests[0]["headers"]["Authorization"] == f"Basic {wrong}"
    for secret in ("wrong", wrong, PASSWORD):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_retries_are_logged_without_the_credentials(server, caplog):
    # given
    server.routes["/cards"] = scripted((503, b"unavailable"), (200, b"{}"))
    caplog.set_level(logging.DEBUG)

    # when
    client_for(server).get("/cards")

    # then
    assert server.requests[1]["headers"]["Authorization"] == BASIC
    assert "HTTP 503: unavailable (try 1 of 3)" in caplog.text
    assert BASIC.split()[1] not in caplog.text
    assert PASSWORD not in caplog.text


# The Racing API


def test_racingapi_maps_the_recorded_racecards(racingapi):
    # given
    provider = TheRacingApiProvider(base_url=racingapi.url, username=USERNAME, password=PASSWORD)

    # when
    cards = provider.racecards(DAY)
    empty = provider.racecards(EMPTY_DAY)

    # then
    assert empty == []
    assert len(cards) == 32
    assert sum(len(card.runners) for card in cards) == 300
    kempton = next(c for c in cards if c.course_name == "Kempton (AW)" and c.race_number == 1)
    assert (kempton.course_code, kempton.course_country, kempton.date) == ("KEMPTOAW", "GB", DAY)
    assert kempton.off_time == datetime.datetime(2025, 12, 17, 16, 5, tzinfo=datetime.UTC)
    assert (kempton.distance_m, kempton.surface, kempton.going) == (
        2414,
        "all_weather",
        "Standard To Slow",
    )
    assert (kempton.race_class, str(kempton.prize), kempton.prize_currency) == (
        "Class 5",
        "4187",
        "GBP",
    )
    first = kempton.runners[0]
    assert (first.horse_name, first.horse_external_id, first.saddle_number) == (
        "One Cool Dreamer",
        "One Cool Dreamer (IRE)",
        1,
    )
    assert (first.jockey_name, first.trainer_name, first.draw, first.weight_lb) == (
        "Tom Kiely-Marshall",
        "Alan King",
        10,
        142,
    )
    assert (first.rating, first.age, first.gear, first.form, first.non_runner) == (
        70,
        4,
        "p",
        "-24534",
        False,
    )
    non_runners = [r for card in cards for r in card.runners if r.non_runner]
    assert len(non_runners) == 6
    assert {(r.saddle_number, r.jockey_name) for r in non_runners} == {(None, "")}


# Betfair


@pytest.fixture
def betfair(server, shared_data_dir):
    """A JSON-RPC endpoint: the day's race list built from the recorded cards, then each card.

    `betfair.statuses` sets a listed race's status (DORMANT unless set); `betfair.race_list`,
    when set, is answered for the race list as it is.
    """
    cards = {}
    for path in sorted((shared_data_dir / "betfair").glob("racecards*.json")):
        envelope = json.loads(path.read_bytes())
        cards[envelope["result"]["race"]["raceId"]] = path.read_bytes()
    server.statuses = {}
    server.race_list = None

    def rpc(handler, body):
        call = json.loads(body)
        server.calls.append(call)
        if call["method"] == LIST_RACES and server.race_list is not None:
            return 200, server.race_list
        if call["method"] == LIST_RACES:
            races = [
                {
                    "raceId": race_id,
                    "raceStatus": server.statuses.get(race_id, "DORMANT"),
                    "responseCode": "OK",
                }
                for race_id in cards
            ]
            return 200, json.dumps({"jsonrpc": "2.0", "result": races, "id": 1}).encode()
        if call["method"] == GET_RACECARD:
            return 200, cards[call["params"]["raceId"]]
        error = {"code": -32601, "message": "Method not found"}
        return 200, json.dumps({"jsonrpc": "2.0", "error": error, "id": 1}).encode()

    server.calls = []
    server.routes["/json-rpc"] = rpc
    return server


@pytest.fixture
def betfair_settings(settings, betfair):
    settings.HRP_PROVIDERS = ["betfair"]
    settings.BETFAIR_URL = f"{betfair.url}/json-rpc"
    settings.BETFAIR_APP_KEY = "app-key"
    settings.BETFAIR_SESSION_TOKEN = "session"
    settings.PROVIDER_HTTP_RETRIES = 1
    return settings


def test_betfair_maps_the_recorded_cards_of_a_day(betfair):
    # given
    provider = BetfairProvider(
        base_url=f"{betfair.url}/json-rpc", app_key="app-key", session_token="session"
    )

    # when
    cards = provider.racecards(datetime.date(2017, 5, 13))

    # then
    assert len(cards) == 10
    card = next(c for c in cards if c.external_id == "2.136.1170513.3")
    assert (card.course_name, card.course_country, card.course_code) == (
        "Evangeline Downs",
        "US",
        "EVD",
    )
    assert (card.race_number, card.distance_m, card.surface) == (3, 1408, "dirt")
    assert (str(card.prize), card.prize_currency, len(card.runners)) == ("15000.00", "USD", 8)
    runner = card.runners[0]
    assert (runner.horse_name, runner.horse_external_id, runner.saddle_number) == (
        "Jayrew",
        "2.14012613",
        1,
    )
    assert (runner.jockey_external_id, runner.trainer_name, runner.weight_lb) == (
        "2.00123498",
        "Samuel Breaux",
        118,
    )
    posted = betfair.requests[0]
    assert (posted["method"], posted["headers"]["X-Application"]) == ("POST", "app-key")


# Syncs


def _race_runner_rows():
    return sorted(Runner.objects.values_list("pk", "race_id", "horse_id", "jockey_id"))


@pytest.mark.django_db
def test_sync_creates_the_recorded_day_and_a_second_sync_changes_nothing(racingapi_settings):
    # when
    first = provider_sync(provider="theracingapi", day=DAY)
    rows = _race_runner_rows()
    second = provider_sync(provider="theracingapi", day=DAY)

    # then
    assert (first.status, first.error) == (ProviderSync.Status.SUCCEEDED, "")
    assert first.counts == {
        "races_created": 32,
        "races_updated": 0,
        "races_unchanged": 0,
        "runners_created": 300,
        "runners_updated": 0,
        "runners_unchanged": 0,
        "non_runners_marked": 0,
        **NO_RESULTS,
    }
    assert second.counts == {
        "races_created": 0,
        "races_updated": 0,
        "races_unchanged": 32,
        "runners_created": 0,
        "runners_updated": 0,
        "runners_unchanged": 300,
        "non_runners_marked": 0,
        **NO_RESULTS,
    }
    assert _race_runner_rows() == rows
    assert Race.objects.filter(source=ExternalRecord.Source.THERACINGAPI).count() == 32
    assert Runner.objects.filter(source=ExternalRecord.Source.THERACINGAPI).count() == 300
    assert Runner.objects.filter(non_runner=True).count() == 6
    assert Racecourse.objects.count() == 4


@pytest.mark.django_db
def test_a_changed_card_updates_the_runner_and_marks_the_missing_one(
    racingapi_settings, racingapi, shared_data_dir
):
    # given
    provider_sync(provider="theracingapi", day=DAY)
    payload = json.loads(
        (shared_data_dir / "theracingapi" / "racecards_2025-12-17.json").read_text()
    )
    race = next(r for r in payload["racecards"] if r["off_dt"] == "2025-12-17T16:05:00+00:00")
    race["runners"][0]["jockey"] = "Hollie Doyle"
    removed = race["runners"].pop(1)
    racingapi.routes[RACECARDS_PATH] = scripted((200, json.dumps(payload).encode()))
    runner_count = Runner.objects.count()

    # when
    sync = provider_sync(provider="theracingapi", day=DAY)

    # then
    assert sync.counts == {
        "races_created": 0,
        "races_updated": 0,
        "races_unchanged": 32,
        "runners_created": 0,
        "runners_updated": 1,
        "runners_unchanged": 298,
        "non_runners_marked": 1,
        **NO_RESULTS,
    }
    assert Runner.objects.count() == runner_count
    changed = Runner.objects.get(
        horse__name=race["runners"][0]["horse"], race__name=race["race_name"]
    )
    assert changed.jockey.name == "Hollie Doyle"
    gone = Runner.objects.get(horse__name=removed["horse"], race__name=race["race_name"])
    assert (gone.non_runner, gone.finish_position, gone.saddle_number) == (True, None, 2)


@pytest.mark.django_db
def test_a_failed_sync_is_recorded_with_its_error_and_writes_nothing(racingapi_settings, racingapi):
    # given
    racingapi.routes[RACECARDS_PATH] = scripted((500, b"upstream exploded"))

    # when
    with pytest.raises(ProviderTransientError):
        provider_sync(provider="theracingapi", day=DAY)

    # then
    sync = ProviderSync.objects.get()
    assert (sync.provider, sync.day, sync.status, sync.counts) == (
        "theracingapi",
        DAY,
        ProviderSync.Status.FAILED,
        {},
    )
    assert sync.error == (
        f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=2025-12-17 -> HTTP 500: "
        "upstream exploded"
    )
    assert sync.finished_at is not None
    assert (Race.objects.count(), Runner.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_the_hong_kong_folder_syncs_through_the_csv_import(settings, tmp_path):
    # given
    races_csv, runs_csv = small_pair()
    (tmp_path / "races.csv").write_text(races_csv)
    (tmp_path / "runs.csv").write_text(runs_csv)
    settings.HRP_PROVIDERS = ["hkracing"]
    settings.HKRACING_DIR = str(tmp_path)

    # when
    first = provider_sync(provider="hkracing", day=DAY)
    second = provider_sync(provider="hkracing", day=DAY)

    # then
    races = Race.objects.filter(source=ExternalRecord.Source.HKRACING).count()
    runners = Runner.objects.filter(source=ExternalRecord.Source.HKRACING).count()
    assert (first.counts["races_created"], first.counts["runners_created"]) == (races, runners)
    assert races > 0
    assert (second.counts["races_unchanged"], second.counts["runners_unchanged"]) == (
        races,
        runners,
    )


@pytest.mark.django_db
def test_providers_status_lists_each_provider_with_its_last_sync(racingapi_settings):
    # given
    sync = provider_sync(provider="theracingapi", day=EMPTY_DAY)

    # when
    statuses = providers_status()

    # then
    assert statuses == [
        {
            "provider": "theracingapi",
            "configured": True,
            "last_sync": {
                "day": EMPTY_DAY,
                "status": "succeeded",
                "started_at": sync.started_at,
                "finished_at": sync.finished_at,
                "counts": sync.counts,
                "error": "",
            },
        },
        {"provider": "betfair", "configured": False, "last_sync": None},
        {"provider": "hkracing", "configured": False, "last_sync": None},
    ]


@pytest.mark.django_db
def test_admin_sync_now_syncs_the_selected_provider_day_again(
    racingapi_settings, staff_client, django_capture_on_commit_callbacks, celery_eager
):
    # given
    failed = ProviderSync.objects.create(
        provider="theracingapi", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 500"
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:races_providersync_changelist"),
            {"action": "sync_now", "_selected_action": [failed.pk]},
        )

    # then
    assert response.status_code == 302
    latest = ProviderSync.objects.exclude(pk=failed.pk).get()
    assert (latest.provider, latest.day, latest.status) == (
        "theracingapi",
        DAY,
        ProviderSync.Status.SUCCEEDED,
    )
    assert Race.objects.count() == 32


@pytest.mark.django_db
def test_sync_provider_task_syncs_a_day_and_returns_its_counts(racingapi_settings):
    # when
    result = sync_provider_task.apply(args=("theracingapi", "2025-12-18")).get()

    # then
    sync = ProviderSync.objects.get()
    assert result == {
        "sync": sync.pk,
        "provider": "theracingapi",
        "day": "2025-12-18",
        "races_created": 0,
        "races_updated": 0,
        "races_unchanged": 0,
        "runners_created": 0,
        "runners_updated": 0,
        "runners_unchanged": 0,
        "non_runners_marked": 0,
        **NO_RESULTS,
    }


@pytest.mark.django_db
def test_provider_sync_changelist_shows_the_syncs(staff_client):
    # given
    ProviderSync.objects.create(
        provider="betfair", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 401"
    )

    # when
    response = staff_client.get(reverse("admin:races_providersync_changelist"))

    # then
    assert response.status_code == 200
    assert b"HTTP 401" in response.content


@pytest.mark.django_db
def test_betfair_sync_stores_the_day_with_betfair_ids(settings, betfair):
    # given
    settings.HRP_PROVIDERS = ["betfair"]
    settings.BETFAIR_URL = f"{betfair.url}/json-rpc"
    settings.BETFAIR_APP_KEY = "app-key"
    settings.BETFAIR_SESSION_TOKEN = "session"

    # when
    sync = provider_sync(provider="betfair", day=datetime.date(2017, 5, 13))

    # then
    assert (sync.status, sync.counts["races_created"], sync.counts["runners_created"]) == (
        ProviderSync.Status.SUCCEEDED,
        10,
        83,
    )
    race = Race.objects.get(external_id="2.136.1170513.3")
    assert (race.source, race.racecourse.code, race.distance_m, race.surface) == (
        ExternalRecord.Source.BETFAIR,
        "EVD",
        1408,
        "dirt",
    )


@pytest.mark.django_db
def test_synced_cards_get_predictions_after_the_commit(
    racingapi_settings, django_capture_on_commit_callbacks, celery_eager
):
    # given: models trained on demo results before the synced day
    from predictions.models import Prediction
    from predictions.services.versions import model_version_train_new
    from races.demo import demo_data_seed

    demo_data_seed(seed=2, today=DAY - datetime.timedelta(days=1), days_ahead=0, history_days=20)
    for algorithm in ("market", "logit"):
        model_version_train_new(algorithm=algorithm, train_until=DAY - datetime.timedelta(days=2))

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        provider_sync(provider="theracingapi", day=DAY)

    # then: every starter of the synced cards has a prediction from each model
    assert len(callbacks) == 1
    starters = Runner.objects.filter(
        race__source="theracingapi", race__meeting_date=DAY, non_runner=False
    )
    predictions = Prediction.objects.filter(runner__in=starters)
    assert starters.count() > 0
    assert predictions.count() == 2 * starters.count()


# Betfair results

BETFAIR_DAY = datetime.date(2017, 5, 13)
RECORDED_STATUS_DAY = datetime.date(2016, 8, 4)


def _result_counts(sync):
    return {name: sync.counts[name] for name in NO_RESULTS}


def test_betfair_results_are_the_recorded_final_statuses_without_placings(betfair, shared_data_dir):
    # given: the recorded race status answer, as it is
    betfair.race_list = (shared_data_dir / "betfair" / "list_race_details.json").read_bytes()
    provider = BetfairProvider(
        base_url=f"{betfair.url}/json-rpc", app_key="app-key", session_token="session"
    )

    # when
    results = provider.results(RECORDED_STATUS_DAY)

    # then: 466 races weighed in; the 8 dormant ones and the one going behind are not over
    assert len(results) == 466
    assert {(result.status, len(result.runners)) for result in results} == {("result", 0)}
    race_ids = {result.external_id for result in results}
    assert "27873033.1300" in race_ids
    assert not {"27875259.1920", "27875177.1915"} & race_ids
    assert betfair.calls == [
        {"jsonrpc": "2.0", "method": LIST_RACES, "params": {"date": "2016-08-04"}, "id": 1}
    ]


@pytest.mark.django_db
def test_a_betfair_result_sync_abandons_races_by_their_card_ids_and_settles_none_without_placings(
    betfair_settings, betfair
):
    # given: the day's cards stored, then final statuses for some of them and one unknown race
    provider_sync(provider="betfair", day=BETFAIR_DAY)
    betfair.statuses.update(
        {
            "2.136.1170513.3": "WEIGHEDIN",
            "2.136.1170513.4": "ABANDONED",
            "2.202.1170513.4": "RACEVOID",
            "2.514.1170513.1": "RESULT",  # announced, not yet weighed in: not final
            "1.34.1170923.1": "ABANDONED",  # a race of another day, not stored
        }
    )
    races = Race.objects.count()

    # when
    first = provider_sync(provider="betfair", day=BETFAIR_DAY)
    second = provider_sync(provider="betfair", day=BETFAIR_DAY)

    # then
    assert _result_counts(first) == {
        **NO_RESULTS,
        "races_abandoned": 2,
        "results_without_placings": 1,
        "results_unmatched": 1,
    }
    assert _result_counts(second) == {
        **NO_RESULTS,
        "results_unchanged": 2,
        "results_without_placings": 1,
        "results_unmatched": 1,
    }
    assert (second.counts["races_unchanged"], second.counts["runners_unchanged"]) == (10, 83)
    statuses = dict(Race.objects.values_list("external_id", "status"))
    assert statuses["2.136.1170513.4"] == statuses["2.202.1170513.4"] == Race.Status.ABANDONED
    assert statuses["2.136.1170513.3"] == statuses["2.514.1170513.1"] == Race.Status.DECLARED
    assert list(statuses.values()).count(Race.Status.ABANDONED) == 2
    assert Race.objects.count() == races
    assert not Runner.objects.filter(finish_position__isnull=False).exists()


@pytest.mark.django_db
def test_results_with_placings_settle_the_race_and_a_second_store_changes_nothing(
    betfair_settings,
):
    # given: the recorded cards stored, and a result naming a winner, a dead heat for second
    # and a non-runner; the other runners did not finish
    provider_sync(provider="betfair", day=BETFAIR_DAY)
    race = Race.objects.get(external_id="2.136.1170513.3")
    horses = [r.horse.external_id for r in race.runners.select_related("horse")]
    result = RaceResult(
        external_id="2.136.1170513.3",
        status="result",
        runners=[
            RunnerResult(horses[2], finish_position=1),
            RunnerResult(horses[0], finish_position=2, dead_heat=True),
            RunnerResult(horses[5], finish_position=2, dead_heat=True),
            RunnerResult(horses[7], non_runner=True),
        ],
    )
    other_races = list(Race.objects.exclude(pk=race.pk).values_list("pk", "status", "updated_at"))

    # when
    first = race_results_store(results=[result], source=ExternalRecord.Source.BETFAIR)
    second = race_results_store(results=[result], source=ExternalRecord.Source.BETFAIR)

    # then
    assert first == {**NO_RESULTS, "races_settled": 1}
    assert second == {**NO_RESULTS, "results_unchanged": 1}
    race.refresh_from_db()
    assert race.status == Race.Status.RESULT
    placings = {
        runner.horse.external_id: (runner.finish_position, runner.dead_heat, runner.non_runner)
        for runner in race.runners.select_related("horse")
    }
    assert placings == {
        horses[0]: (2, True, False),
        horses[1]: (None, False, False),
        horses[2]: (1, False, False),
        horses[3]: (None, False, False),
        horses[4]: (None, False, False),
        horses[5]: (2, True, False),
        horses[6]: (None, False, False),
        horses[7]: (None, False, True),
    }
    assert (
        list(Race.objects.exclude(pk=race.pk).values_list("pk", "status", "updated_at"))
        == other_races
    )


# Every sync ends: refused up front, or recorded as failed however it fails


@pytest.mark.django_db
def test_a_provider_unconfigured_between_enqueue_and_run_fails_its_row(
    racingapi_settings, racingapi, django_capture_on_commit_callbacks
):
    # given: a sync queued while the provider was configured
    with django_capture_on_commit_callbacks() as callbacks:
        queued = provider_sync_enqueue(provider="theracingapi", day=DAY)
    racingapi_settings.THERACINGAPI_PASSWORD = ""

    # when: the worker runs it
    sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": queued.pk},
        throw=False,
    )

    # then
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status, sync.error) == (
        queued.pk,
        ProviderSync.Status.FAILED,
        "provider 'theracingapi' is not configured: missing THERACINGAPI_PASSWORD",
    )
    assert sync.finished_at is not None
    assert len(callbacks) == 1
    assert racingapi.requests == []


@pytest.mark.django_db
def test_bad_data_fails_the_sync_at_once_without_a_retry(racingapi_settings, racingapi):
    # given: a provider answering with something that is not JSON
    racingapi.routes[RACECARDS_PATH] = scripted((200, b"<html>maintenance</html>"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when
    result = sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": queued.pk},
        throw=False,
    )

    # then: one attempt, and the row failed with the error
    assert isinstance(result.result, ProviderError)
    assert len(racingapi.requests) == 1
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status) == (queued.pk, ProviderSync.Status.FAILED)
    assert sync.error.startswith(f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=")


@pytest.mark.django_db
def test_a_transient_error_keeps_the_sync_running_and_says_it_will_be_retried(
    racingapi_settings, racingapi
):
    # given
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when: an attempt that is not the last one
    with pytest.raises(ProviderTransientError):
        provider_sync(provider="theracingapi", day=DAY, sync_id=queued.pk, will_retry=True)

    # then: still running for the poll, with the reason
    sync = ProviderSync.objects.get()
    assert (sync.status, sync.finished_at) == (ProviderSync.Status.RUNNING, None)
    assert sync.error == (
        "this attempt failed and will be retried: "
        f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=2025-12-17 -> HTTP 503: busy"
    )


@pytest.mark.django_db
def test_transient_errors_fail_the_same_row_once_the_retries_are_exhausted(
    racingapi_settings, racingapi, eager_retries
):
    # given: a provider that stays down
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when: the task and its retries (run in turn, eagerly)
    result = sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": queued.pk},
        throw=False,
    )

    # then: four attempts on one row, which ends failed
    assert isinstance(result.result, ProviderTransientError)
    assert len(racingapi.requests) == 1 + sync_provider_task.max_retries
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status) == (queued.pk, ProviderSync.Status.FAILED)
    assert sync.error.endswith("-> HTTP 503: busy")
    assert not sync.error.startswith("this attempt failed")


@pytest.mark.django_db
def test_a_retry_that_succeeds_ends_the_same_row_succeeded(
    racingapi_settings, racingapi, shared_data_dir, eager_retries
):
    # given: one 503, then the recorded day
    recorded = (shared_data_dir / "theracingapi" / "racecards_2025-12-17.json").read_bytes()
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"), (200, recorded))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when
    result = sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": queued.pk},
        throw=False,
    )

    # then
    assert result.result["sync"] == queued.pk
    sync = ProviderSync.objects.get()
    assert (sync.status, sync.error, sync.counts["races_created"]) == (
        ProviderSync.Status.SUCCEEDED,
        "",
        32,
    )


@pytest.mark.django_db
def test_a_redelivered_sync_that_ended_does_nothing(racingapi_settings, racingapi):
    # given
    sync = provider_sync(provider="theracingapi", day=EMPTY_DAY)
    requests = len(racingapi.requests)

    # when
    again = provider_sync(provider="theracingapi", day=EMPTY_DAY, sync_id=sync.pk)

    # then
    assert (again.pk, again.status) == (sync.pk, ProviderSync.Status.SUCCEEDED)
    assert len(racingapi.requests) == requests
    assert ProviderSync.objects.count() == 1


@pytest.mark.django_db
def test_syncs_no_worker_will_end_are_failed_by_the_beat(settings):
    # given: a sync queued three hours ago and never run, and a fresh one
    settings.HRP_PROVIDERS = []
    old = provider_sync_create(provider="betfair", day=DAY)
    ProviderSync.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=3)
    )
    fresh = provider_sync_create(provider="betfair", day=DAY)

    # when
    sync_providers_task.apply()

    # then
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.error) == (
        ProviderSync.Status.FAILED,
        "no worker ended this sync within 2:00:00; it was given up",
    )
    assert fresh.status == ProviderSync.Status.QUEUED


@pytest.mark.django_db
def test_admin_sync_now_refuses_a_provider_not_configured(
    settings, staff_client, django_capture_on_commit_callbacks
):
    # given
    settings.HRP_PROVIDERS = []
    failed = ProviderSync.objects.create(
        provider="betfair", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 401"
    )

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            reverse("admin:races_providersync_changelist"),
            {"action": "sync_now", "_selected_action": [failed.pk]},
            follow=True,
        )

    # then
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert shown == [
        (
            "error",
            "Not queued: provider 'betfair' is not configured: missing HRP_PROVIDERS (add "
            "'betfair'), BETFAIR_URL, BETFAIR_APP_KEY, BETFAIR_SESSION_TOKEN.",
        )
    ]
    assert list(ProviderSync.objects.values_list("pk", flat=True)) == [failed.pk]
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_sync_the_broker_cannot_take_is_failed_and_the_api_answers_503(
    racingapi_settings, staff_api, broker_down
):
    # when
    response = staff_api.post("/api/v1/providers/theracingapi/sync/")

    # then
    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"The sync of theracingapi {broker_down}.")
    sync = ProviderSync.objects.get()
    assert sync.status == ProviderSync.Status.FAILED
    assert sync.error.startswith(f"{broker_down}.")


@pytest.mark.django_db(transaction=True)
def test_admin_sync_now_says_when_the_broker_cannot_take_the_sync(
    racingapi_settings, staff_client, broker_down
):
    # given
    failed = ProviderSync.objects.create(
        provider="theracingapi", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 500"
    )

    # when
    response = staff_client.post(
        reverse("admin:races_providersync_changelist"),
        {"action": "sync_now", "_selected_action": [failed.pk]},
        follow=True,
    )

    # then
    [(level, message)] = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert level == "error"
    assert message.startswith("The sync of theracingapi on 2025-12-17 could not be queued: ")
    latest = ProviderSync.objects.exclude(pk=failed.pk).get()
    assert latest.status == ProviderSync.Status.FAILED
