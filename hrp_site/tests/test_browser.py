"""The member journey in a real browser: Playwright driving the system Chromium against a live
server. Skipped where Chromium is not installed, unless HRP_REQUIRE_BROWSER is set (CI sets it,
so a missing browser fails there instead of passing quietly)."""

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from hrp_site.testing.required import skip_unless_required
from predictions.models import ModelVersion
from predictions.tests.factories import ModelVersionFactory, PredictionFactory
from races.models import Race
from races.tests.factories import RaceFactory, RunnerFactory

CHROMIUM = Path(os.environ.get("HRP_CHROMIUM", "/usr/bin/chromium"))

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        skip_unless_required(
            "HRP_REQUIRE_BROWSER", f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests
    # make between page actions are plain synchronous ones and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.DEBUG = False
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def todays_card():
    """Today's race with six runners, each with a prediction from an active version trained
    before today, explained by two features."""
    today = timezone.localdate()
    race = RaceFactory(
        meeting_date=today,
        race_number=1,
        name="Browser Test Handicap",
        status=Race.Status.DECLARED,
    )
    version = ModelVersionFactory(
        algorithm=ModelVersion.Algorithm.BENTER,
        train_until=today - datetime.timedelta(days=1),
        is_active=True,
    )
    probabilities = [0.31, 0.22, 0.17, 0.13, 0.10, 0.07]
    runners = []
    for number, probability in enumerate(probabilities, start=1):
        runner = RunnerFactory(
            race=race, saddle_number=number, horse__name=f"Browser Horse {number}"
        )
        runner.win_odds = Decimal("4.00") if number == 1 else Decimal("6.00")
        runner.save()
        PredictionFactory(
            runner=runner,
            model_version=version,
            win_probability=probability,
            place_probability=min(1.0, probability * 2.5),
            rank=number,
            fair_odds=1 / probability,
            edge=probability * float(runner.win_odds) - 1,
            explanation=[["market_log_odds", 0.84], ["rating", -0.12]],
        )
        runners.append(runner)
    return race, runners


def _sign_up(page, username: str, password: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email address").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    page.get_by_role("button", name="Sign up").click()


def _log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_anonymous_visitor_is_sent_to_log_in(page, todays_card):
    # given
    race, _ = todays_card

    # when
    page.goto(f"/racing/race/{race.pk}/")

    # then
    assert re.search(r"/accounts/login/\?next=/racing/race/\d+/", page.url)
    assert page.get_by_role("heading", name="Log in").is_visible()
    assert page.get_by_text("Browser Horse 1").count() == 0


def test_a_new_member_signs_up_reads_a_card_follows_a_horse_and_logs_out(page, todays_card):
    race, runners = todays_card
    password = "correct-horse-battery-stable"

    # sign up: logged in straight away
    _sign_up(page, "newmember", password)
    assert page.get_by_role("button", name="Log out").is_visible()

    # log out, and back in with the new account
    page.get_by_role("button", name="Log out").click()
    _log_in(page, "newmember", password)
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, newmember"

    # today's cards, then the race
    page.get_by_role("link", name="Race cards").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Race cards")
    page.get_by_role("link", name=re.compile("Browser Test Handicap")).click()
    assert page.url.endswith(f"/racing/race/{race.pk}/")

    # our probabilities beside the market
    row = page.get_by_role("row", name=re.compile("Browser Horse 1"))
    assert "31.0%" in row.inner_text()
    assert row.get_by_text("Value").is_visible()  # 0.31 x 4.00 - 1 = +24%

    # the explanation on demand, opened from the keyboard, in a row below the runner
    explanation = row.locator("details")
    why = page.locator("tr.why-row", has_text="Why Browser Horse 1 has")
    assert not why.is_visible()
    explanation.locator("summary").focus()
    page.keyboard.press("Enter")
    assert why.get_by_text("Market log odds: raises its chance (×2.32)").is_visible()

    # follow the horse; the home page lists its next run
    follow = page.get_by_role("button", name="Follow Browser Horse 1")
    assert follow.get_attribute("aria-pressed") == "false"
    follow.click()
    assert page.get_by_role("button", name="Follow Browser Horse 1", pressed=True).is_visible()
    page.get_by_role("link", name="HRP", exact=True).click()
    next_runs = page.get_by_role("table", name=re.compile("next runners", re.IGNORECASE))
    assert next_runs.get_by_role("link", name="Browser Horse 1").is_visible()
    assert next_runs.get_by_text("Browser Horse 2").count() == 0

    # log out: back to the public landing page
    page.get_by_role("button", name="Log out").click()
    assert (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").is_visible()
    )
    page.goto(f"/racing/race/{race.pk}/")
    assert "/accounts/login/" in page.url


def test_five_wrong_passwords_lock_the_account(page, django_user_model):
    django_user_model.objects.create_user(username="lockme", password="the-right-password-1")

    for _ in range(5):
        _log_in(page, "lockme", "a-wrong-password-123")
    assert page.get_by_text(re.compile("locked", re.IGNORECASE)).first.is_visible()

    # the right password no longer gets in
    _log_in(page, "lockme", "the-right-password-1")
    assert page.get_by_text(re.compile("locked", re.IGNORECASE)).first.is_visible()
    assert page.get_by_role("button", name="Log out").count() == 0


def test_every_page_fits_a_phone_and_has_a_title_and_one_heading(
    browser, live_server, settings, todays_card, django_user_model
):
    settings.DEBUG = False
    race, runners = todays_card
    runner = runners[0]
    django_user_model.objects.create_user(username="phone", password="a-phone-password-12")
    # yesterday's result, with long names, for the results page's placings
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    settled = RaceFactory(
        meeting_date=yesterday, status=Race.Status.RESULT, name="A Long Handicap Name " * 3
    )
    for position in range(1, 15):
        RunnerFactory(
            race=settled,
            saddle_number=position,
            finish_position=position,
            horse__name=f"Phone Horse With A Long Name {position}",
        )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    public = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    members = [
        "/",
        "/racing/",
        "/racing/next/",
        "/racing/results/",
        f"/racing/{yesterday.isoformat()}/results/",
        f"/racing/race/{race.pk}/",
        f"/racing/race/{race.pk}/?sort=-edge",
        f"/horses/{runner.horse.pk}/",
        f"/jockeys/{runner.jockey.pk}/",
        f"/trainers/{runner.trainer.pk}/",
        "/search/?q=Browser",
        "/models/",
        "/accounts/profile/",
    ]

    titles = {}
    for signed_in, paths in ((False, public), (True, members)):
        if signed_in:
            _log_in(page, "phone", "a-phone-password-12")
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px screen"
            assert page.locator("h1").count() == 1, path
            assert page.title().endswith(" · HRP"), path
            titles[(signed_in, path)] = page.title()
    context.close()
    assert len(set(titles.values())) >= len(titles) - 1  # the sorted card shares its title


# Every securitypolicyviolation event of a document, kept on the window for the test to read.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI}`
      + ` (${event.sourceFile}:${event.lineNumber})`
  );
});
"""


def test_no_page_breaks_the_content_security_policy(
    browser, live_server, settings, todays_card, staff_user
):
    settings.DEBUG = False
    race, runners = todays_card
    runner = runners[0]
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))

    def rendered(name: str):
        return lambda: page.get_by_role("heading", level=1, name=name).first

    public = {
        "/": rendered("Win probabilities for every runner, judged against the betting market"),
        "/accounts/login/": rendered("Log in"),
    }
    signed_in = {
        "/racing/": rendered(re.compile("^Race cards")),
        "/racing/next/": rendered(re.compile("^Next to run")),
        "/racing/results/": rendered(re.compile("^Results")),
        f"/racing/race/{race.pk}/": lambda: page.get_by_role(
            "row", name=re.compile("Browser Horse 1")
        ),
        f"/horses/{runner.horse.pk}/": rendered(re.compile("^Browser Horse 1")),
        f"/jockeys/{runner.jockey.pk}/": rendered(re.compile(re.escape(runner.jockey.name))),
        f"/trainers/{runner.trainer.pk}/": rendered(re.compile(re.escape(runner.trainer.name))),
        "/models/": rendered("Model performance"),
        "/accounts/profile/": rendered("Your profile"),
        "/admin/": rendered("Racing data and models"),
        # The admin's scripts run: they add the "Today" shortcut beside a date field.
        f"/admin/races/race/{race.pk}/change/": lambda: page.get_by_role("link", name="Today"),
        # The docs render in the browser: an operation shows only once their scripts have run.
        "/api/docs/": lambda: page.locator(".opblock-summary-path", has_text="/api/v1/races/"),
        "/api/redoc/": lambda: page.get_by_role("heading", level=2, name="races_list"),
    }

    violations = {}
    for paths in (public, signed_in):
        if paths is signed_in:
            _log_in(page, "staff", "a-long-staff-password")
            assert page.get_by_role("button", name="Log out").is_visible()
        for path, shown in paths.items():
            console.clear()
            response = page.goto(path)
            assert response.status == 200, path
            shown().first.wait_for(state="visible")
            page.wait_for_load_state("networkidle")
            reported = page.evaluate("window.cspViolations") + [
                text for text in console if "Content Security Policy" in text
            ]
            if reported:
                violations[path] = reported

    # the watch works: an inline style a script adds is refused and reported
    page.evaluate(
        "document.head.append("
        "Object.assign(document.createElement('style'), {textContent: 'b {}'}))"
    )
    page.wait_for_function("window.cspViolations.length > 0")
    context.close()
    assert violations == {}


def _member_page(browser, live_server, django_user_model, *, width: int, height: int, **user):
    """A page of a signed-in member in a browser window of `width` x `height`."""
    django_user_model.objects.create_user(
        username="punter", email="punter@example.com", password="a-punter-password-12", **user
    )
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    _log_in(page, "punter", "a-punter-password-12")
    return context, page


def _box_inside(box: dict, width: int, height: int) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


def test_desktop_card_sorts_win_high_to_low_opens_why_below_and_shows_fractional_odds(
    browser, live_server, settings, todays_card, django_user_model, tmp_path
):
    # given: a member at desktop width
    settings.DEBUG = False
    race, runners = todays_card
    context, page = _member_page(browser, live_server, django_user_model, width=1280, height=900)

    # when: the member chooses fractional odds in the profile, then opens the card
    page.goto("/accounts/profile/")
    page.get_by_label("Fractional (9/2)").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Your profile is saved.").is_visible()
    page.goto(f"/racing/race/{race.pk}/?sort=-saddle")

    # then: the race's facts above the runners at this width
    facts = page.locator("dl.race-facts").bounding_box()
    assert facts["y"] < page.locator("table.race-card").bounding_box()["y"]
    # and the market's 4.00 and the fair odds of a 31% chance (3.23) as fractions
    first = page.get_by_role("row", name=re.compile("Browser Horse 1"))
    assert first.locator("td.c-odds").inner_text() == "3/1"
    assert first.locator("td.c-fair").inner_text() == "9/4"

    # when: Win % is clicked once
    page.get_by_role("link", name="Win %").click()

    # then: the highest chance first
    page.wait_for_url(re.compile(r"sort=-win"))
    horses = page.locator("tr.runner td.c-horse a").all_inner_texts()
    assert horses == [f"Browser Horse {n}" for n in range(1, 7)]
    header = page.get_by_role("columnheader", name="Win %")
    assert header.get_attribute("aria-sort") == "descending"

    # when: "Why?" opens
    table = page.locator("table.race-card")
    width_before = table.bounding_box()["width"]
    first = page.get_by_role("row", name=re.compile("Browser Horse 1"))
    first.get_by_text("Why?").click()

    # then: a row below the runner, the table no wider, the factors in plain words
    why = page.locator("tr.why-row", has_text="Why Browser Horse 1 has a 31.0% chance")
    assert why.is_visible()
    assert why.bounding_box()["y"] >= first.bounding_box()["y"] + first.bounding_box()["height"]
    assert table.bounding_box()["width"] == width_before
    assert why.get_by_text("Rating: lowers its chance (×0.89)").is_visible()
    page.screenshot(path=str(tmp_path / "desktop-card-why.png"), full_page=True)
    scroll = page.locator(".table-scroll")
    assert scroll.evaluate("el => el.scrollWidth <= el.clientWidth")
    context.close()


def _give_a_past(runner) -> None:
    """Headgear new today, a claiming rider, and three past runs (a fall among them)."""
    for days, position, non_finish in [(400, None, "F"), (60, 1, ""), (21, 3, "")]:
        past = RaceFactory(
            meeting_date=runner.race.meeting_date - datetime.timedelta(days),
            status=Race.Status.RESULT,
            racecourse=runner.race.racecourse,
            race_number=days % 10 + 1,
        )
        RunnerFactory(
            race=past, horse=runner.horse, finish_position=position, non_finish=non_finish
        )
        RunnerFactory.create_batch(2, race=past, finish_position=None)
    runner.gear, runner.jockey_allowance_lb = "tp", 7
    runner.save()


@pytest.mark.parametrize("settled", [False, True], ids=["declared", "settled"])
def test_phone_card_shows_horse_odds_win_fair_odds_and_value_on_the_first_screen(
    browser, live_server, settings, todays_card, django_user_model, tmp_path, settled
):
    # given: a member on a 390 x 844 phone; a card with form, marks and headgear, and its result
    settings.DEBUG = False
    race, runners = todays_card
    _give_a_past(runners[0])
    # a header as long as real ones get: a long name, every fact, a prize
    race.name = "The Hong Kong Jockey Club Members' Cup Handicap (Division Two)"
    race.race_class, race.rating_band, race.going = "4", "40-60", Race.Going.GOOD_TO_FIRM
    race.prize, race.prize_currency = 1_150_000, "HKD"
    race.save()
    if settled:
        race.status = Race.Status.RESULT
        race.save()
        for position, runner in enumerate(runners, start=1):
            runner.finish_position = position
            runner.save()
    context, page = _member_page(browser, live_server, django_user_model, width=390, height=844)

    # when
    page.goto(f"/racing/race/{race.pk}/")
    shot = tmp_path / "phone-card.png"
    page.screenshot(path=str(shot))

    # then: nothing to scroll sideways, and the first runner's essentials on the first screen
    assert shot.stat().st_size > 0
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    scroll = page.locator(".table-scroll")
    assert scroll.evaluate("el => el.scrollWidth <= el.clientWidth")
    first = page.locator("tr.runner").first
    cells = {
        "horse": first.locator("td.c-horse"),
        "odds": first.locator("td.c-odds"),
        "win": first.locator("td.c-win"),
        "fair": first.locator("td.c-fair"),
        "value": first.locator("td.c-edge"),
    }
    for name, cell in cells.items():
        box = cell.bounding_box()
        assert box is not None, name
        assert _box_inside(box, 390, 844), f"{name} at {box} is off the first screen"
        assert cell.is_visible(), name
    assert cells["horse"].inner_text().startswith("Browser Horse 1")
    assert cells["odds"].inner_text() == "4.00"  # its label comes from CSS
    assert cells["win"].inner_text() == "31.0%"
    assert "Value" in cells["value"].inner_text()
    # the rest of the runner follows below, labelled
    assert first.locator("td.c-people").bounding_box()["y"] > cells["win"].bounding_box()["y"]
    # the race's facts, models and place terms come after the runners on a phone
    facts = page.locator("dl.race-facts").bounding_box()
    assert facts["y"] > page.locator("table.race-card").bounding_box()["y"]

    # when: "Why?" opens on the phone: still nothing to scroll sideways
    first.get_by_text("Why?").click()
    assert page.locator("tr.why-row").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "phone-card-why.png"), full_page=True)
    context.close()
