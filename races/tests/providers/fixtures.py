"""Provider fixtures: a real local HTTP server serving the recorded responses (a pytest plugin
the root conftest loads, so that the predictions tests of a sync use them too)."""

import json
import threading
import urllib.parse
from http.server import ThreadingHTTPServer

import pytest

from races.providers.betfair import GET_RACECARD, LIST_RACES
from races.providers.theracingapi import RACECARDS_PATH
from races.tests.providers.recorded import BASIC, PASSWORD, USERNAME, Handler


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
