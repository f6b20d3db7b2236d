"""The bad-input corpus: requests a client may send wrong, each with what the site must answer.

Every case is refused with a 4xx whose body names what was wrong (a JSON body under /api/, page
text elsewhere), never a 5xx, and leaves the database as it was. hrp_site/tests/
test_bad_input_corpus.py sends them to a gunicorn on PostgreSQL. `python -m
hrp_site.testing.corpus` prints the counts by category.

A case's path and body may name the seeded rows: `{race}` in a path, `"@race"` (quotes included)
in a JSON body; the test fills them in.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

# Who sends a case: nobody, a member's or staff's browser session, or an API token.
ANON, MEMBER, STAFF, MEMBER_TOKEN, STAFF_TOKEN = "anon", "member", "staff", "member-token", "token"

CLIENT_ERROR = tuple(range(400, 500))
# An HTML form the site redraws with the field's error, as Django's form views do: 200 is right
# for these, as is a 4xx.
FORM_ERROR = (200, *CLIENT_ERROR)

CATEGORIES = ("pages", "log-in", "api-reads", "staff-writes")
LONG = 10_000
# Longer than any search or filter needs, within the request line gunicorn takes (4094 bytes).
LONG_QUERY = 1000
NUL = "\x00"
SURROGATE = "\ud800"
NOT_AN_IP = ["not-an-ip", "999.1.1.1", "127.0.0.1, <script>", "::ffff:zz", NUL, "a" * 500]


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    method: str
    path: str
    expect: tuple[str, ...]  # the body must contain one of these, case-insensitive
    auth: str = ANON
    json: object = None
    form: dict | None = None
    body: bytes | None = None  # sent as it is, with content_type
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    csrf: bool = True  # send a CSRF cookie and header that match
    statuses: tuple[int, ...] = CLIENT_ERROR
    raw: bytes | None = None  # the whole request, sent on a socket as it is
    # Under /api/ the error is JSON; False where gunicorn itself refuses the request.
    json_errors: bool = True

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _deep_object(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


CASES: list[Case] = []


def add(*cases: Case) -> None:
    CASES.extend(cases)


# --- pages --------------------------------------------------------------------------------------
# Django's words, or the site's own page: "That form has expired".
CSRF_REFUSED = ("csrf", "origin", "expired")
PAGE_NOT_FOUND = ("not found",)
# DRF names the model: "No Race matches the given query."
API_NOT_FOUND = ("not found", "matches the given query")
add(
    *(
        Case(f"page-day-{day}", "pages", "GET", f"/racing/{day}/", PAGE_NOT_FOUND, auth=MEMBER)
        for day in ["2026-02-30", "2026-13-01", "0000-01-01", "2026-00-10", "2025-02-29"]
    ),
    *(
        Case(
            f"page-{kind}-huge-id",
            "pages",
            "GET",
            f"/{kind}/{'9' * 30}/",
            PAGE_NOT_FOUND,
            auth=MEMBER,
        )
        for kind in ["horses", "jockeys", "trainers", "racing/race"]
    ),
    *(
        Case(f"page-{kind}-missing", "pages", "GET", f"/{kind}/0/", PAGE_NOT_FOUND, auth=MEMBER)
        for kind in ["horses", "jockeys", "trainers", "racing/race"]
    ),
    Case("page-horse-negative-id", "pages", "GET", "/horses/-1/", PAGE_NOT_FOUND, auth=MEMBER),
    Case(
        "page-results-no-such-day",
        "pages",
        "GET",
        "/racing/2026-02-30/results/",
        PAGE_NOT_FOUND,
        auth=MEMBER,
    ),
    *(
        Case(
            f"alert-unsubscribe-{name}",
            "pages",
            method,
            f"/accounts/alerts/unsubscribe/{token}/",
            ("unsubscribe link is not valid",),
        )
        for name, method, token in [
            ("garbage", "GET", "not-a-token"),
            ("tampered", "POST", "eyJlbnRyeSI6MSwiZXZlbnQiOiJyZXN1bHQifQ:1xaBHW:forged"),
            ("nul", "GET", "abc%00def"),
        ]
    ),
    Case("page-unknown", "pages", "GET", "/no-such-page/", PAGE_NOT_FOUND, auth=MEMBER),
    Case("page-path-invalid-utf8", "pages", "GET", "/racing/%FF%FE/", PAGE_NOT_FOUND, auth=MEMBER),
    Case("search-nul", "pages", "GET", "/search/?q=ab%00cd", ("null", "search"), auth=MEMBER),
    Case("search-only-nul", "pages", "GET", "/search/?q=%00%00", ("null", "search"), auth=MEMBER),
    Case(
        "search-long",
        "pages",
        "GET",
        f"/search/?q={'a' * LONG_QUERY}",
        ("long", "characters"),
        auth=MEMBER,
    ),
    Case(
        "search-request-line-too-long",
        "pages",
        "GET",
        f"/search/?q={'a' * LONG}",
        ("too large", "request line"),
        auth=MEMBER,
    ),
    Case(
        "search-long-unicode",
        "pages",
        "GET",
        "/search/?q=" + quote("é" * (LONG_QUERY // 2)),
        ("long", "characters"),
        auth=MEMBER,
    ),
    Case(
        "follow-bad-action",
        "pages",
        "POST",
        "/accounts/watchlist/horse/{horse}/",
        ("action",),
        auth=MEMBER,
        form={"action": "adore"},
    ),
    Case(
        "follow-no-action",
        "pages",
        "POST",
        "/accounts/watchlist/horse/{horse}/",
        ("action",),
        auth=MEMBER,
        form={},
    ),
    Case(
        "follow-nul-action",
        "pages",
        "POST",
        "/accounts/watchlist/horse/{horse}/",
        ("action",),
        auth=MEMBER,
        form={"action": "follow" + NUL},
    ),
    Case(
        "follow-unknown-kind",
        "pages",
        "POST",
        "/accounts/watchlist/unicorn/{horse}/",
        PAGE_NOT_FOUND,
        auth=MEMBER,
        form={"action": "follow"},
    ),
    Case(
        "follow-missing-horse",
        "pages",
        "POST",
        f"/accounts/watchlist/horse/{'9' * 30}/",
        PAGE_NOT_FOUND,
        auth=MEMBER,
        form={"action": "follow"},
    ),
    Case(
        "follow-without-csrf",
        "pages",
        "POST",
        "/accounts/watchlist/horse/{horse}/",
        CSRF_REFUSED,
        auth=MEMBER,
        form={"action": "follow"},
        csrf=False,
    ),
    Case(
        "follow-foreign-origin",
        "pages",
        "POST",
        "/accounts/watchlist/horse/{horse}/",
        CSRF_REFUSED,
        auth=MEMBER,
        form={"action": "follow"},
        headers={"Origin": "https://evil.example"},
    ),
    Case(
        "profile-without-csrf",
        "pages",
        "POST",
        "/accounts/profile/",
        CSRF_REFUSED,
        auth=MEMBER,
        form={"email": "taken@example.com"},
        csrf=False,
    ),
    Case(
        "profile-foreign-origin",
        "pages",
        "POST",
        "/accounts/profile/",
        CSRF_REFUSED,
        auth=MEMBER,
        form={"email": "evil@example.com"},
        headers={"Origin": "https://evil.example"},
    ),
    Case(
        "profile-bad-email",
        "pages",
        "POST",
        "/accounts/profile/",
        ("email",),
        auth=MEMBER,
        form={"email": "not an address"},
        statuses=FORM_ERROR,
    ),
    Case(
        "profile-long-name",
        "pages",
        "POST",
        "/accounts/profile/",
        ("at most",),
        auth=MEMBER,
        form={"email": "member@example.com", "first_name": "a" * LONG},
        statuses=FORM_ERROR,
    ),
    Case(
        "profile-nul-name",
        "pages",
        "POST",
        "/accounts/profile/",
        ("null",),
        auth=MEMBER,
        form={"email": "member@example.com", "first_name": "a" + NUL},
        statuses=FORM_ERROR,
    ),
    Case(
        "host-foreign",
        "pages",
        "GET",
        "/",
        ("bad request",),
        headers={"Host": "evil.example"},
    ),
    Case(
        "admin-without-csrf",
        "pages",
        "POST",
        "/admin/races/race/{race}/change/",
        CSRF_REFUSED,
        auth=STAFF,
        form={"name": "changed"},
        csrf=False,
    ),
    Case(
        "admin-foreign-origin",
        "pages",
        "POST",
        "/admin/races/race/{race}/delete/",
        CSRF_REFUSED,
        auth=STAFF,
        form={"post": "yes"},
        headers={"Origin": "https://evil.example"},
    ),
)

# --- log-in and sign-up -----------------------------------------------------------------------
LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"
CREDENTIALS_REFUSED = ("correct username", "at most", "null")


def login(case_id: str, expect=CREDENTIALS_REFUSED, **kwargs) -> Case:
    kwargs.setdefault("statuses", FORM_ERROR)
    return Case(case_id, "log-in", "POST", LOGIN, expect, **kwargs)


def signup(case_id: str, data: dict, expect, **kwargs) -> Case:
    form = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "a-long-newcomer-password",
        "password2": "a-long-newcomer-password",
        **data,
    }
    kwargs.setdefault("statuses", FORM_ERROR)
    return Case(case_id, "log-in", "POST", SIGNUP, expect, form=form, **kwargs)


add(
    login(
        "login-without-csrf",
        CSRF_REFUSED,
        form={"username": "member", "password": "x"},
        csrf=False,
        statuses=CLIENT_ERROR,
    ),
    login(
        "login-foreign-origin",
        CSRF_REFUSED,
        form={"username": "member", "password": "a-long-member-password"},
        headers={"Origin": "https://evil.example"},
        statuses=CLIENT_ERROR,
    ),
    login(
        "login-foreign-referer-null-origin",
        CSRF_REFUSED,
        form={"username": "member", "password": "a-long-member-password"},
        headers={"Origin": "null"},
        statuses=CLIENT_ERROR,
    ),
    login("login-wrong-password", form={"username": "member", "password": "wrong"}),
    login("login-long-username", form={"username": "a" * LONG, "password": "x"}),
    login("login-300-username", form={"username": "a" * 300, "password": "x"}),
    login("login-long-password", form={"username": "member", "password": "p" * LONG}),
    login("login-nul-username", form={"username": "mem" + NUL + "ber", "password": "x"}),
    login("login-nul-password", form={"username": "member", "password": "x" + NUL}),
    login("login-empty", ("required",), form={}),
    login(
        "login-list-username",
        form=None,
        body=b"username=a&username=b&password=x",
        content_type="application/x-www-form-urlencoded",
    ),
    login(
        "login-invalid-utf8",
        body=b"username=\xff\xfe\xfd&password=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    ),
    login(
        "login-surrogate-escape",
        body=b"username=%ED%A0%80&password=x",
        content_type="application/x-www-form-urlencoded",
    ),
    login(
        "login-json-body",
        ("required", "csrf"),
        body=b'{"username": "member", "password": "a-long-member-password"}',
        content_type="application/json",
    ),
    login(
        "login-too-many-fields",
        ("bad request", "too many", "fields"),
        body="&".join(f"f{i}=1" for i in range(1500)).encode(),
        content_type="application/x-www-form-urlencoded",
        statuses=CLIENT_ERROR,
    ),
    *(
        login(
            f"login-forwarded-{i}",
            ("correct username", "forwarded", "address"),
            form={"username": "member", "password": "wrong"},
            headers={"X-Forwarded-For": address},
            json_errors=NUL not in address,  # gunicorn refuses a NUL in a header
        )
        for i, address in enumerate(NOT_AN_IP)
    ),
    signup("signup-long-username", {"username": "a" * LONG}, ("at most", "150")),
    signup("signup-151-username", {"username": "a" * 151}, ("at most", "150")),
    signup("signup-nul-username", {"username": "new" + NUL}, ("null",)),
    signup("signup-bad-username", {"username": "new comer!"}, ("username", "letters")),
    signup("signup-bad-email", {"email": "nobody"}, ("email",)),
    signup("signup-long-email", {"email": "a" * LONG + "@example.com"}, ("email", "at most")),
    signup("signup-nul-email", {"email": "a" + NUL + "@example.com"}, ("null", "email")),
    signup("signup-taken-username", {"username": "member"}, ("already exists",)),
    signup("signup-short-password", {"password1": "short", "password2": "short"}, ("too short",)),
    signup("signup-passwords-differ", {"password2": "a-different-passphrase"}, ("didn", "match")),
    signup(
        "signup-without-csrf",
        {},
        CSRF_REFUSED,
        csrf=False,
        statuses=CLIENT_ERROR,
    ),
    signup(
        "signup-foreign-origin",
        {},
        CSRF_REFUSED,
        headers={"Origin": "https://evil.example"},
        statuses=CLIENT_ERROR,
    ),
    Case(
        "password-reset-nul-email",
        "log-in",
        "POST",
        "/accounts/password/reset/",
        ("null", "email"),
        form={"email": "a" + NUL + "@example.com"},
        statuses=FORM_ERROR,
    ),
    Case(
        "password-reset-long-email",
        "log-in",
        "POST",
        "/accounts/password/reset/",
        ("email", "at most"),
        form={"email": "a" * LONG + "@example.com"},
        statuses=FORM_ERROR,
    ),
)

# --- API reads --------------------------------------------------------------------------------


def read(case_id: str, path: str, expect, **kwargs) -> Case:
    kwargs.setdefault("auth", MEMBER_TOKEN)
    return Case(case_id, "api-reads", "GET", path, expect, **kwargs)


BAD_DATES = [
    "2026-02-30",
    "2026-13-01",
    "notadate",
    "0000-01-01",
    "20261301",
    "2026-01-01T00:00",
    "9" * 30,
]
add(
    *(
        read(f"races-{name}-{i}", f"/api/v1/races/?{name}={quote(day)}", (name,))
        for name in ["date", "date_from", "date_to"]
        for i, day in enumerate(BAD_DATES)
    ),
    read("runners-date-invalid", "/api/v1/runners/?date=2026-02-30", ("date",)),
    read("predictions-date-invalid", "/api/v1/predictions/?date=2026-02-31", ("date",)),
    read("races-racecourse-word", "/api/v1/races/?racecourse=abc", ("racecourse",)),
    read("races-racecourse-huge", f"/api/v1/races/?racecourse={'9' * 30}", ("racecourse",)),
    read("races-racecourse-negative", "/api/v1/races/?racecourse=-1", ("racecourse",)),
    read("races-status-unknown", "/api/v1/races/?status=won", ("status",)),
    read("races-surface-unknown", "/api/v1/races/?surface=ice", ("surface",)),
    read("races-course-long", f"/api/v1/races/?course={'A' * LONG_QUERY}", ("course",)),
    read("races-course-nul", "/api/v1/races/?course=S%00T", ("course", "null")),
    read("races-unknown-filter", "/api/v1/races/?winner=1", ("winner",)),
    read(
        "races-unknown-filter-lookup",
        "/api/v1/races/?meeting_date__gte=2020-01-01",
        ("meeting_date__gte",),
    ),
    read("races-ordering-unknown", "/api/v1/races/?ordering=prize", ("ordering", "prize")),
    read("races-ordering-relation", "/api/v1/races/?ordering=racecourse__name", ("ordering",)),
    read("races-ordering-nul", "/api/v1/races/?ordering=%00", ("ordering",)),
    read("runners-ordering-unknown", "/api/v1/runners/?ordering=horse__name", ("ordering",)),
    read("runners-ordering-long", f"/api/v1/runners/?ordering={'-a' * 500}", ("ordering",)),
    read("horses-ordering-unknown", "/api/v1/horses/?ordering=sex", ("ordering",)),
    read("runners-race-word", "/api/v1/runners/?race=abc", ("race",)),
    read("runners-race-huge", f"/api/v1/runners/?race={'9' * 30}", ("race",)),
    read("runners-horse-float", "/api/v1/runners/?horse=1.5", ("horse",)),
    read("runners-non-runner-maybe", "/api/v1/runners/?non_runner=maybe", ("non_runner",)),
    read("runners-unknown-filter", "/api/v1/runners/?finish_position=1", ("finish_position",)),
    read("predictions-race-word", "/api/v1/predictions/?race=first", ("race",)),
    read("predictions-race-huge", f"/api/v1/predictions/?race={'9' * 30}", ("race",)),
    read("predictions-race-exponent", "/api/v1/predictions/?race=1e400", ("race",)),
    read("predictions-race-nan", "/api/v1/predictions/?race=NaN", ("race",)),
    read("predictions-race-ids-word", "/api/v1/predictions/?race_ids=1,abc", ("race_ids",)),
    read("predictions-race-ids-huge", f"/api/v1/predictions/?race_ids=1,{'9' * 30}", ("race_ids",)),
    read("predictions-algorithm-unknown", "/api/v1/predictions/?algorithm=oracle", ("algorithm",)),
    read(
        "predictions-model-version-word", "/api/v1/predictions/?model_version=x", ("model_version",)
    ),
    read(
        "predictions-ordering-unknown", "/api/v1/predictions/?ordering=explanation", ("ordering",)
    ),
    read("model-versions-status-unknown", "/api/v1/model-versions/?status=done", ("status",)),
    read("model-versions-active-maybe", "/api/v1/model-versions/?is_active=maybe", ("is_active",)),
    read(
        "model-versions-algorithm-unknown", "/api/v1/model-versions/?algorithm=%00", ("algorithm",)
    ),
    read("horses-name-long", f"/api/v1/horses/?name={'a' * LONG_QUERY}", ("name",)),
    read("horses-name-nul", "/api/v1/horses/?name=a%00b", ("name", "null")),
    read("horses-country-long", f"/api/v1/horses/?country={'A' * 500}", ("country",)),
    read("jockeys-name-nul", "/api/v1/jockeys/?name=%00", ("name", "null")),
    read("trainers-name-long", f"/api/v1/trainers/?name={'b' * LONG_QUERY}", ("name",)),
    read("racecourses-code-nul", "/api/v1/racecourses/?code=%00", ("code", "null")),
    read("racecourses-country-long", f"/api/v1/racecourses/?country={'G' * 500}", ("country",)),
    read("races-page-word", "/api/v1/races/?page=last2", ("page",)),
    read("races-page-zero", "/api/v1/races/?page=0", ("page",)),
    read("races-page-huge", f"/api/v1/races/?page={'9' * 30}", ("page",)),
    read("races-page-size-word", "/api/v1/races/?page_size=lots", ("page_size",)),
    read("races-page-size-negative", "/api/v1/races/?page_size=-5", ("page_size",)),
    read("races-detail-huge", f"/api/v1/races/{'9' * 30}/", API_NOT_FOUND),
    read("races-detail-word", "/api/v1/races/first/", API_NOT_FOUND),
    read("horses-detail-missing", "/api/v1/horses/0/", API_NOT_FOUND),
    read("model-versions-detail-huge", f"/api/v1/model-versions/{'9' * 30}/", API_NOT_FOUND),
    read("api-unknown-path", "/api/v1/winners/", API_NOT_FOUND),
    read("api-format-unknown", "/api/v1/races/?format=xml", ("not found", "format")),
    read("api-accept-xml", "/api/v1/races/", ("accept",), headers={"Accept": "application/xml"}),
    read("api-anonymous", "/api/v1/races/", ("credentials",), auth=ANON),
    read(
        "api-token-garbage",
        "/api/v1/races/",
        ("invalid token",),
        auth=ANON,
        headers={"Authorization": "Token not-a-token"},
    ),
    read(
        "api-token-nul",
        "/api/v1/races/",
        ("token", "authorization"),
        json_errors=False,  # gunicorn refuses the header
        auth=ANON,
        headers={"Authorization": "Token abc\x00def"},
    ),
    read(
        "api-token-long",
        "/api/v1/races/",
        ("token",),
        auth=ANON,
        headers={"Authorization": "Token " + "a" * 4000},
    ),
    read(
        "api-token-spaces",
        "/api/v1/races/",
        ("token",),
        auth=ANON,
        headers={"Authorization": "Token a b c"},
    ),
    read(
        "api-basic-not-base64",
        "/api/v1/tokens/",
        ("basic", "credentials"),
        auth=ANON,
        headers={"Authorization": "Basic !!!"},
    ),
    *(
        read(
            f"api-anonymous-forwarded-{i}",
            "/api/v1/races/",
            ("credentials", "forwarded"),
            auth=ANON,
            headers={"X-Forwarded-For": address},
            json_errors=NUL not in address,  # gunicorn refuses a NUL in a header
        )
        for i, address in enumerate(NOT_AN_IP)
    ),
)

# --- staff writes -----------------------------------------------------------------------------
RACES = "/api/v1/races/"
RACE = "/api/v1/races/{race}/"
RUNNER = "/api/v1/runners/{runner}/"
REFRESH = "/api/v1/predictions/refresh/"
VERSION = "/api/v1/model-versions/{version}/"
GOOD_RACE = {
    "racecourse": "@racecourse",
    "meeting_date": "2026-12-24",
    "race_number": 9,
    "distance_m": 1200,
    "name": "Corpus Handicap",
}


def write(case_id: str, method: str, path: str, expect, **kwargs) -> Case:
    kwargs.setdefault("auth", STAFF_TOKEN)
    return Case(case_id, "staff-writes", method, path, expect, **kwargs)


def race_field(case_id: str, name: str, value, expect=None) -> list[Case]:
    """The value refused in a new race (POST) and in a change to the seeded one (PATCH)."""
    expect = expect or (name,)
    return [
        write(f"race-create-{case_id}", "POST", RACES, expect, json={**GOOD_RACE, name: value}),
        write(f"race-update-{case_id}", "PATCH", RACE, expect, json={name: value}),
    ]


add(
    *race_field("race-number-word", "race_number", "ninth"),
    *race_field("race-number-huge", "race_number", 10**30),
    *race_field("race-number-infinite", "race_number", float("inf"), ("race_number", "json")),
    *race_field("race-number-negative", "race_number", -1),
    *race_field("race-number-list", "race_number", [1]),
    *race_field("distance-huge", "distance_m", 2**63),
    *race_field("distance-float", "distance_m", 1200.5),
    *race_field("distance-object", "distance_m", {"m": 1200}),
    *race_field("date-invalid", "meeting_date", "2026-02-30"),
    *race_field("date-year-zero", "meeting_date", "0000-01-01"),
    *race_field("date-number", "meeting_date", 20261224),
    *race_field("date-huge-year", "meeting_date", "99999-01-01"),
    *race_field("post-time-invalid", "post_time", "2026-12-24T25:61:00Z"),
    *race_field("post-time-words", "post_time", "teatime"),
    *race_field("racecourse-missing", "racecourse", 10**30),
    *race_field("racecourse-word", "racecourse", "ST"),
    *race_field("surface-unknown", "surface", "ice"),
    *race_field("status-unknown", "status", "won"),
    *race_field("going-unknown", "going", "Bottomless Swamp"),
    *race_field("going-long", "going", "G" * LONG),
    *race_field("name-long", "name", "N" * LONG),
    *race_field("name-nul", "name", "Corpus" + NUL, ("name", "null")),
    *race_field("name-surrogate", "name", "Corpus " + SURROGATE, ("name", "surrogate")),
    *race_field("name-object", "name", {"en": "Corpus"}),
    *race_field("prize-word", "prize", "lots"),
    *race_field("prize-huge", "prize", 10**40),
    *race_field("prize-nan", "prize", "NaN"),
    *race_field("rail-surrogate", "rail", "\udfff", ("rail", "surrogate")),
    write("race-create-empty", "POST", RACES, ("required",), json={}),
    write("race-create-list", "POST", RACES, ("dictionary", "list"), json=[GOOD_RACE]),
    write("race-create-string", "POST", RACES, ("dictionary", "str"), json="race"),
    write(
        "race-create-null",
        "POST",
        RACES,
        ("required", "dictionary", "no data"),
        json=None,
        body=b"null",
        content_type="application/json",
    ),
    write("race-put-partial", "PUT", RACE, ("required",), json={"name": "Only a name"}),
    write(
        "race-malformed-json",
        "POST",
        RACES,
        ("json",),
        body=b'{"name": "Corpus",',
        content_type="application/json",
    ),
    write(
        "race-trailing-comma",
        "PATCH",
        RACE,
        ("json",),
        body=b'{"name": "Corpus",}',
        content_type="application/json",
    ),
    write(
        "race-single-quotes",
        "PATCH",
        RACE,
        ("json",),
        body=b"{'name': 'Corpus'}",
        content_type="application/json",
    ),
    write(
        "race-nan-literal",
        "PATCH",
        RACE,
        ("json", "distance_m", "valid"),
        body=b'{"distance_m": NaN}',
        content_type="application/json",
    ),
    write(
        "race-invalid-utf8",
        "PATCH",
        RACE,
        ("json", "utf-8"),
        body=b'{"name": "\xff\xfe"}',
        content_type="application/json",
    ),
    write(
        "race-bad-escape",
        "PATCH",
        RACE,
        ("json",),
        body=b'{"name": "\\x41"}',
        content_type="application/json",
    ),
    write(
        "race-nested-arrays",
        "PATCH",
        RACE,
        ("json", "nest", "deep"),
        body=_deep(100_000).encode(),
        content_type="application/json",
    ),
    write(
        "race-nested-objects",
        "PATCH",
        RACE,
        ("json", "nest", "deep"),
        body=_deep_object(50_000).encode(),
        content_type="application/json",
    ),
    write(
        "race-nested-in-field",
        "PATCH",
        RACE,
        ("json", "nest", "deep", "name"),
        body=b'{"name": ' + _deep(20_000).encode() + b"}",
        content_type="application/json",
    ),
    write(
        "race-huge-body",
        "PATCH",
        RACE,
        ("large", "too big", "size"),
        body=b'{"name": "' + b"x" * (30 * 1024 * 1024) + b'"}',
        content_type="application/json",
    ),
    write(
        "race-long-number",
        "PATCH",
        RACE,
        ("distance_m", "json", "integer", "too large"),
        body=b'{"distance_m": ' + b"9" * 5000 + b"}",
        content_type="application/json",
    ),
    write(
        "race-text-plain",
        "PATCH",
        RACE,
        ("media type", "unsupported"),
        body=b"name=Corpus",
        content_type="text/plain",
    ),
    write(
        "race-bad-multipart",
        "PATCH",
        RACE,
        ("multipart",),
        body=b"--x\r\nnot a part",
        content_type="multipart/form-data; boundary=x",
    ),
    write(
        "race-multipart-no-boundary",
        "PATCH",
        RACE,
        ("multipart", "boundary"),
        body=b"name=Corpus",
        content_type="multipart/form-data",
    ),
    write(
        "race-too-many-form-fields",
        "PATCH",
        RACE,
        ("fields", "too many", "parameters", "media type"),
        body="&".join(f"f{i}=1" for i in range(1500)).encode(),
        content_type="application/x-www-form-urlencoded",
    ),
    write("race-delete-missing", "DELETE", f"/api/v1/races/{'9' * 30}/", API_NOT_FOUND),
    write("race-patch-missing", "PATCH", "/api/v1/races/0/", API_NOT_FOUND, json={"name": "x"}),
    write(
        "runner-position-word",
        "PATCH",
        RUNNER,
        ("finish_position",),
        json={"finish_position": "first"},
    ),
    write(
        "runner-position-huge",
        "PATCH",
        RUNNER,
        ("finish_position",),
        json={"finish_position": 2**40},
    ),
    write("runner-odds-huge", "PATCH", RUNNER, ("win_odds",), json={"win_odds": 1e300}),
    write("runner-odds-negative", "PATCH", RUNNER, ("win_odds",), json={"win_odds": -3}),
    write(
        "runner-weight-nan",
        "PATCH",
        RUNNER,
        ("declared_weight_lb",),
        json={"declared_weight_lb": "NaN"},
    ),
    write("runner-horse-missing", "PATCH", RUNNER, ("horse",), json={"horse": 10**30}),
    write(
        "runner-non-runner-word", "PATCH", RUNNER, ("non_runner",), json={"non_runner": "perhaps"}
    ),
    write(
        "runner-non-runner-with-position",
        "PATCH",
        RUNNER,
        ("finish_position", "non-runner"),
        json={"non_runner": True, "finish_position": 1},
    ),
    write("runner-gear-long", "PATCH", RUNNER, ("gear",), json={"gear": "B" * LONG}),
    write("runner-gear-nul", "PATCH", RUNNER, ("gear", "null"), json={"gear": "B" + NUL}),
    write("runner-create-empty", "POST", "/api/v1/runners/", ("required",), json={}),
    write("refresh-empty", "POST", REFRESH, ("race_ids", "date"), json={}),
    write(
        "refresh-both",
        "POST",
        REFRESH,
        ("race_ids", "date"),
        json={"race_ids": ["@race"], "date": "2026-12-24"},
    ),
    write("refresh-ids-string", "POST", REFRESH, ("race_ids", "list"), json={"race_ids": "1,2"}),
    write("refresh-ids-huge", "POST", REFRESH, ("race_ids",), json={"race_ids": [10**30]}),
    write("refresh-ids-zero", "POST", REFRESH, ("race_ids",), json={"race_ids": [0]}),
    write(
        "refresh-ids-missing",
        "POST",
        REFRESH,
        ("race_ids", "no race"),
        json={"race_ids": [987654321]},
    ),
    write("refresh-ids-nested", "POST", REFRESH, ("race_ids",), json={"race_ids": [[1]]}),
    write(
        "refresh-ids-too-many",
        "POST",
        REFRESH,
        ("race_ids",),
        json={"race_ids": list(range(1, 1002))},
    ),
    write("refresh-date-invalid", "POST", REFRESH, ("date",), json={"date": "2026-02-30"}),
    write("refresh-date-nul", "POST", REFRESH, ("date",), json={"date": "2026-12-24" + NUL}),
    write(
        "retrain-activate-word",
        "POST",
        VERSION + "retrain/",
        ("activate",),
        json={"activate": "maybe"},
    ),
    write(
        "retrain-missing",
        "POST",
        f"/api/v1/model-versions/{'9' * 30}/retrain/",
        API_NOT_FOUND,
        json={},
    ),
    write("train-ready-version", "POST", VERSION + "train/", ("ready",), json={}),
    write(
        "sync-unknown-provider",
        "POST",
        "/api/v1/providers/unicorn/sync/",
        ("unicorn", "provider"),
        json={},
    ),
    write(
        "sync-day-invalid",
        "POST",
        "/api/v1/providers/hkracing/sync/",
        ("day",),
        json={"day": "2026-02-30"},
    ),
    write(
        "sync-day-object",
        "POST",
        "/api/v1/providers/hkracing/sync/",
        ("day",),
        json={"day": {"y": 2026}},
    ),
    write(
        "version-status",
        "PATCH",
        VERSION,
        ("status", "read-only", "not allowed"),
        json={"status": "failed"},
    ),
    write(
        "version-active",
        "PATCH",
        VERSION,
        ("is_active", "read-only", "not allowed"),
        json={"is_active": "maybe"},
    ),
    write(
        "version-metrics",
        "PATCH",
        VERSION,
        ("metrics", "read-only", "not allowed"),
        json={"metrics": {"log_loss": 0}},
    ),
    write(
        "version-notes-object", "PATCH", VERSION, ("notes", "not allowed"), json={"notes": {"a": 1}}
    ),
    write(
        "version-notes-nul",
        "PATCH",
        VERSION,
        ("notes", "null", "not allowed"),
        json={"notes": "n" + NUL},
    ),
    write(
        "version-create",
        "POST",
        "/api/v1/model-versions/",
        ("not allowed",),
        json={"algorithm": "logit"},
    ),
    write("member-creates-race", "POST", RACES, ("permission",), json=GOOD_RACE, auth=MEMBER_TOKEN),
    write(
        "member-patches-race",
        "PATCH",
        RACE,
        ("permission",),
        json={"name": "Mine"},
        auth=MEMBER_TOKEN,
    ),
    write("member-deletes-race", "DELETE", RACE, ("permission",), auth=MEMBER_TOKEN),
    write(
        "member-refreshes",
        "POST",
        REFRESH,
        ("permission",),
        json={"date": "2026-12-24"},
        auth=MEMBER_TOKEN,
    ),
    write(
        "anonymous-patches-race", "PATCH", RACE, ("credentials",), json={"name": "Mine"}, auth=ANON
    ),
    write(
        "session-write-without-csrf",
        "PATCH",
        RACE,
        CSRF_REFUSED,
        json={"name": "Mine"},
        auth=STAFF,
        csrf=False,
    ),
    write(
        "session-write-foreign-origin",
        "PATCH",
        RACE,
        CSRF_REFUSED,
        json={"name": "Mine"},
        auth=STAFF,
        headers={"Origin": "https://evil.example"},
    ),
    write(
        "session-delete-foreign-origin",
        "DELETE",
        RACE,
        CSRF_REFUSED,
        auth=STAFF,
        headers={"Origin": "https://evil.example"},
    ),
    write(
        "session-token-create-foreign-origin",
        "POST",
        "/api/v1/tokens/",
        CSRF_REFUSED,
        auth=MEMBER,
        headers={"Origin": "https://evil.example"},
    ),
    write("token-create-with-token", "POST", "/api/v1/tokens/", ("credentials",), auth=STAFF_TOKEN),
    write(
        "token-basic-wrong-password",
        "POST",
        "/api/v1/tokens/",
        ("invalid username",),
        auth=ANON,
        headers={"Authorization": "Basic bWVtYmVyOndyb25n"},
    ),
    *(
        write(
            f"token-basic-{name}",
            "POST",
            "/api/v1/tokens/",
            ("invalid", "username", "credentials"),
            auth=ANON,
            headers={"Authorization": "Basic " + _b64(user + b":x")},
        )
        for name, user in [
            ("long-username", b"a" * 3000),
            ("300-username", b"a" * 300),
            ("nul-username", b"mem\x00ber"),
            ("surrogate-username", b"\xed\xa0\x80"),
            ("latin1-username", b"\xff\xfe"),
        ]
    ),
    write(
        "token-basic-no-colon",
        "POST",
        "/api/v1/tokens/",
        ("basic", "credentials"),
        auth=ANON,
        headers={"Authorization": "Basic " + _b64(b"member")},
    ),
    *(
        write(
            f"token-basic-forwarded-{i}",
            "POST",
            "/api/v1/tokens/",
            ("invalid username", "forwarded", "address"),
            auth=ANON,
            headers={"Authorization": "Basic bWVtYmVyOndyb25n", "X-Forwarded-For": address},
            json_errors=NUL not in address,  # gunicorn refuses a NUL in a header
        )
        for i, address in enumerate(NOT_AN_IP)
    ),
)


def _raw(request_line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return b"\r\n".join(
        [request_line, b"Host: 127.0.0.1", *headers, b"Connection: close", b"", body]
    )


# --- requests HTTP clients would not send: bytes on a socket ----------------------------------
add(
    Case(
        "raw-content-length-beyond-body",
        "staff-writes",
        "PATCH",
        RACE,
        ("large", "json", "content-length"),
        auth=STAFF_TOKEN,
        raw=_raw(
            b"PATCH {race_path} HTTP/1.1",
            b"Authorization: Token {token}",
            b"Content-Type: application/json",
            b"Content-Length: 1000000000",
            body=b'{"name": "Corpus"}',
        ),
    ),
    Case(
        "raw-content-length-negative",
        "staff-writes",
        "PATCH",
        RACE,
        ("content-length", "bad request", "invalid"),
        auth=STAFF_TOKEN,
        json_errors=False,
        raw=_raw(
            b"PATCH {race_path} HTTP/1.1",
            b"Authorization: Token {token}",
            b"Content-Type: application/json",
            b"Content-Length: -5",
            body=b'{"name": "Corpus"}',
        ),
    ),
    Case(
        "raw-content-length-word",
        "staff-writes",
        "PATCH",
        RACE,
        ("content-length", "bad request", "invalid"),
        auth=STAFF_TOKEN,
        json_errors=False,
        raw=_raw(
            b"PATCH {race_path} HTTP/1.1",
            b"Authorization: Token {token}",
            b"Content-Type: application/json",
            b"Content-Length: lots",
            body=b'{"name": "Corpus"}',
        ),
    ),
    Case(
        "raw-content-length-twice",
        "staff-writes",
        "PATCH",
        RACE,
        ("content-length", "bad request", "invalid"),
        auth=STAFF_TOKEN,
        json_errors=False,
        raw=_raw(
            b"PATCH {race_path} HTTP/1.1",
            b"Authorization: Token {token}",
            b"Content-Type: application/json",
            b"Content-Length: 2",
            b"Content-Length: 18",
            body=b'{"name": "Corpus"}',
        ),
    ),
    Case(
        "raw-invalid-utf8-json",
        "staff-writes",
        "PATCH",
        RACE,
        ("json", "utf-8"),
        auth=STAFF_TOKEN,
        raw=_raw(
            b"PATCH {race_path} HTTP/1.1",
            b"Authorization: Token {token}",
            b"Content-Type: application/json; charset=utf-8",
            b"Content-Length: 16",
            body=b'{"name": "\xc3\x28\xa0\xa1"}',
        ),
    ),
    Case(
        "raw-invalid-utf8-query",
        "api-reads",
        "GET",
        "/api/v1/horses/",
        ("name", "invalid"),
        auth=MEMBER_TOKEN,
        json_errors=False,  # gunicorn refuses the request line
        raw=_raw(
            b"GET /api/v1/horses/?name=\xff\xfe%00 HTTP/1.1", b"Authorization: Token {member_token}"
        ),
    ),
    Case(
        "raw-nul-in-path",
        "pages",
        "GET",
        "/",
        ("bad request", "invalid"),
        raw=_raw(b"GET /racing/\x00/ HTTP/1.1"),
    ),
    Case(
        "raw-header-without-colon",
        "pages",
        "GET",
        "/",
        ("bad request", "invalid"),
        raw=_raw(b"GET / HTTP/1.1", b"NotAHeader"),
    ),
    Case(
        "raw-forwarded-for-nul",
        "log-in",
        "POST",
        LOGIN,
        CREDENTIALS_REFUSED + ("forwarded", "bad request", "invalid"),
        statuses=FORM_ERROR,
        raw=_raw(
            b"POST /accounts/login/ HTTP/1.1",
            b"X-Forwarded-For: 10.0.0.\xff",
            b"Cookie: csrftoken={csrf}",
            b"X-CSRFToken: {csrf}",
            b"Content-Type: application/x-www-form-urlencoded",
            b"Content-Length: 29",
            body=b"username=member&password=nope",
        ),
    ),
)


def counts() -> dict[str, int]:
    """The number of cases in each category, and in all."""
    by_category = Counter(case.category for case in CASES)
    return {**dict(sorted(by_category.items())), "total": len(CASES)}


if __name__ == "__main__":
    print(json.dumps(counts(), indent=2))
