"""E-mail alerts for followed horses: declared to run and result in, each sent once, with an
unsubscribe link that works without logging in."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SentAlert, WatchlistEntry
from accounts.selectors import alerts_pending
from accounts.services import alert_unsubscribe_token, horse_alerts_send
from accounts.tasks import send_horse_alerts_task
from races.models import Horse, Race
from races.services.provider_sync import provider_sync
from races.tests.factories import (
    HorseFactory,
    JockeyFactory,
    RacecourseFactory,
    RaceFactory,
    RunnerFactory,
)
from races.tests.hkracing_csv import RACE_HEADER, RUN_HEADER, race_row, run_row, to_csv
from races.tests.providers.recorded import DAY as RECORDED_DAY

from .factories import UserFactory, WatchlistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.HRP_SITE_URL = "https://hrp.example.com"


def _today() -> datetime.date:
    return timezone.localdate()


def _follow(horse=None, *, declared=True, result=True, since=None, **user) -> WatchlistEntry:
    return WatchlistEntryFactory(
        user=UserFactory(**user),
        horse=horse or HorseFactory(),
        alert_declared=declared,
        alert_result=result,
        alerts_since=since or _today(),
    )


def _declared_run(horse, *, day=None):
    race = RaceFactory(
        racecourse=RacecourseFactory(name="Sha Tin"),
        meeting_date=day or _today(),
        race_number=3,
        name="Sprint Handicap",
        post_time=timezone.now() + datetime.timedelta(hours=2),
    )
    RunnerFactory(race=race, saddle_number=1)
    RunnerFactory(race=race, saddle_number=2)
    return RunnerFactory(race=race, horse=horse, saddle_number=7, draw=4)


def _settled_run(horse, *, position=2, day=None):
    race = RaceFactory(
        racecourse=RacecourseFactory(name="Happy Valley"),
        meeting_date=day or _today(),
        race_number=5,
        status=Race.Status.RESULT,
    )
    RunnerFactory(race=race, finish_position=1)
    RunnerFactory(race=race, finish_position=3)
    return RunnerFactory(race=race, horse=horse, finish_position=position, win_odds=Decimal("6.50"))


def _unsubscribe_link(message) -> str:
    return re.search(r"https://hrp\.example\.com(/accounts/alerts/unsubscribe/\S+/)", message.body)[
        1
    ]


# --- the task ------------------------------------------------------------------------------------


def test_a_declared_horse_is_e_mailed_once():
    # given
    entry = _follow(HorseFactory(name="Golden Sixty"), result=False, username="ann")
    runner = _declared_run(entry.horse)

    # when
    first = send_horse_alerts_task.apply().get()
    second = send_horse_alerts_task.apply().get()

    # then
    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann@example.com"]
    post = runner.race.post_time.strftime("%H:%M")
    day = _today().strftime("%a %-d %b")
    assert message.subject == f"Golden Sixty is declared to run: Sha Tin R3, {day} at {post}"
    assert "Golden Sixty, a horse you follow, is declared to run:" in message.body
    assert "Sha Tin R3, Sprint Handicap" in message.body
    assert "Saddle cloth 7, draw 4, ridden by " in message.body
    assert "3 runners" in message.body
    assert f"https://hrp.example.com/racing/race/{runner.race_id}/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://hrp.example.com/accounts/alerts/unsubscribe/"
    )
    assert list(SentAlert.objects.values_list("entry", "runner", "event")) == [
        (entry.pk, runner.pk, "declared")
    ]


def test_a_result_is_e_mailed_once_after_the_declaration():
    # given: declared and e-mailed, then the race is run
    entry = _follow(HorseFactory(name="Beauty Generation"), username="bob")
    runner = _declared_run(entry.horse)
    horse_alerts_send()
    Race.objects.filter(pk=runner.race_id).update(status=Race.Status.RESULT)
    runner.finish_position, runner.win_odds = 2, Decimal("6.50")
    runner.save()

    # when
    sent = horse_alerts_send()
    again = horse_alerts_send()

    # then
    assert (sent, again) == (1, 0)
    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "Beauty Generation is declared to run",
        "Beauty Generation finished 2nd",
    ]
    body = mail.outbox[1].body
    assert "The result is in for Beauty Generation, a horse you follow:" in body
    assert "Finished 2nd of 3, at odds of 6.50" in body
    assert sorted(SentAlert.objects.values_list("event", flat=True)) == ["declared", "result"]


def test_a_result_gives_the_odds_in_the_members_format():
    entry = _follow(HorseFactory(name="Golden Sixty"), odds_format="fractional")
    runner = _settled_run(entry.horse)
    runner.win_odds = Decimal("2.50")
    runner.save()

    horse_alerts_send()

    assert "Finished 2nd of 3, at odds of 6/4" in mail.outbox[0].body


def test_opt_ins_are_respected():
    # given: one horse, followed by members with every combination of alerts and one whose
    # account has no e-mail address
    horse = HorseFactory()
    declared_only = _follow(horse, declared=True, result=False)
    result_only = _follow(horse, declared=False, result=True)
    _follow(horse, declared=False, result=False)
    _follow(horse, email="")
    _follow(horse, is_active=False)
    declared = _declared_run(horse)
    settled = _settled_run(horse)

    # when
    sent = horse_alerts_send()

    # then
    assert sent == 2
    assert sorted(SentAlert.objects.values_list("entry", "runner", "event")) == sorted(
        [(declared_only.pk, declared.pk, "declared"), (result_only.pk, settled.pk, "result")]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [declared_only.user.email, result_only.user.email]
    )


def test_old_results_and_non_runners_are_not_e_mailed():
    # given: results before the alerts were turned on or long ago, a non-runner, a past card
    horse = HorseFactory()
    _follow(horse, since=_today())
    _settled_run(horse, day=_today() - datetime.timedelta(days=1))
    _settled_run(horse, day=_today() - datetime.timedelta(days=30))
    non_runner = _declared_run(horse)
    non_runner.non_runner = True
    non_runner.save()
    _declared_run(horse, day=_today() - datetime.timedelta(days=2))

    assert horse_alerts_send() == 0
    assert mail.outbox == []
    assert not SentAlert.objects.exists()


def test_a_failed_send_is_not_recorded_and_goes_on_the_next_run(monkeypatch):
    entry = _follow()
    _declared_run(entry.horse)

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", down)
    with pytest.raises(ConnectionRefusedError):
        horse_alerts_send()
    assert not SentAlert.objects.exists()
    monkeypatch.undo()

    assert horse_alerts_send() == 1
    assert len(mail.outbox) == 1


def test_only_horse_follows_can_have_alerts():
    with pytest.raises(IntegrityError):
        WatchlistEntry.objects.create(
            user=UserFactory(), jockey=JockeyFactory(), alert_declared=True
        )


# --- unsubscribe ---------------------------------------------------------------------------------


def test_the_unsubscribe_link_works_without_logging_in():
    # given: a declaration e-mailed
    entry = _follow(HorseFactory(name="Romantic Warrior"))
    _declared_run(entry.horse)
    horse_alerts_send()
    link = _unsubscribe_link(mail.outbox[0])
    anonymous = Client(enforce_csrf_checks=True)

    # when: the member opens the link, then confirms
    shown = anonymous.get(link)
    entry.refresh_from_db()
    still_on = entry.alert_declared
    done = anonymous.post(link)

    # then
    assert shown.status_code == 200
    assert "Stop the e-mails sent when <strong>Romantic Warrior</strong> is declared to run?" in (
        shown.content.decode()
    )
    assert still_on is True  # a GET changes nothing (mail scanners open links)
    assert done.status_code == 200
    assert (
        "Done: no more e-mails when Romantic Warrior is declared to run." in done.content.decode()
    )
    entry.refresh_from_db()
    assert (entry.alert_declared, entry.alert_result) == (False, True)
    # and the next declaration is not e-mailed
    _declared_run(entry.horse, day=_today() + datetime.timedelta(days=1))
    assert horse_alerts_send() == 0


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "eyJlbnRyeSI6MX0:1abc:tampered",
        alert_unsubscribe_token(entry_id=1, event="declared")[:-2] + "xx",
    ],
)
def test_a_tampered_unsubscribe_link_is_a_clear_400(token):
    entry = _follow()

    get = Client().get(reverse("accounts:alert_unsubscribe", args=[token]))
    post = Client().post(reverse("accounts:alert_unsubscribe", args=[token]))

    for response in (get, post):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    entry.refresh_from_db()
    assert (entry.alert_declared, entry.alert_result) == (True, True)


def test_a_token_for_another_event_or_a_gone_follow():
    entry = _follow()
    result_link = reverse(
        "accounts:alert_unsubscribe",
        args=[alert_unsubscribe_token(entry_id=entry.pk, event="result")],
    )
    Client().post(result_link)
    entry.refresh_from_db()
    assert (entry.alert_declared, entry.alert_result) == (True, False)

    entry.delete()
    response = Client().post(result_link)
    assert response.status_code == 200
    assert "You no longer follow this horse" in response.content.decode()


# --- the profile ---------------------------------------------------------------------------------


def test_a_member_turns_alerts_on_in_the_profile(client):
    # given
    user = UserFactory()
    entry = WatchlistEntryFactory(user=user, horse=HorseFactory(name="Golden Sixty"))
    client.force_login(user)
    assert 'name="declared"' in client.get(reverse("accounts:profile")).content.decode()

    # when
    response = client.post(
        reverse("accounts:watchlist_alerts", args=[entry.pk]), {"declared": "on", "result": "on"}
    )

    # then
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.alert_declared, entry.alert_result, entry.alerts_since) == (True, True, _today())
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "You will be e-mailed declarations and results of Golden Sixty." in page
    assert 'name="declared" checked' in page

    client.post(reverse("accounts:watchlist_alerts", args=[entry.pk]), {})
    entry.refresh_from_db()
    assert (entry.alert_declared, entry.alert_result) == (False, False)


def test_a_member_cannot_set_alerts_on_another_members_follow(client):
    other = WatchlistEntryFactory()
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:watchlist_alerts", args=[other.pk]), {"result": "on"})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.alert_result is False


# --- what triggers the task ----------------------------------------------------------------------


def test_a_provider_sync_sends_the_alerts(
    racingapi_settings, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    # given: the recorded day's cards stored once, and a member following one of its horses
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: RECORDED_DAY)
    provider_sync(provider="theracingapi", day=RECORDED_DAY)
    runner = Race.objects.filter(meeting_date=RECORDED_DAY).first().runners.starters().first()
    entry = _follow(runner.horse, since=RECORDED_DAY)

    # when: the next sync stores the cards again and commits
    with django_capture_on_commit_callbacks(execute=True):
        provider_sync(provider="theracingapi", day=RECORDED_DAY)

    # then: its signal sent the task, which e-mailed the declaration once
    assert [m.to for m in mail.outbox] == [[entry.user.email]]
    assert f"{runner.horse} is declared to run" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        provider_sync(provider="theracingapi", day=RECORDED_DAY)
    assert len(mail.outbox) == 1


def test_a_hong_kong_import_sends_the_result_alerts(
    tmp_path, celery_eager, django_capture_on_commit_callbacks
):
    # given: a horse imported from an earlier day, followed with result alerts
    today = _today()

    def import_pair(race_id: int, day: datetime.date) -> None:
        races = to_csv(RACE_HEADER, [race_row(race_id, date=day.isoformat())])
        runs = to_csv(RUN_HEADER, [run_row(race_id, 1, 1), run_row(race_id, 2, 2)])
        (tmp_path / "races.csv").write_text(races)
        (tmp_path / "runs.csv").write_text(runs)
        with django_capture_on_commit_callbacks(execute=True):
            call_command("import_hkracing", tmp_path, stdout=open("/dev/null", "w"))  # noqa: SIM115

    import_pair(0, today - datetime.timedelta(days=7))
    horse = Horse.objects.get(external_id="1002")
    entry = _follow(horse, declared=False)
    assert mail.outbox == []

    # when: the next import brings today's result
    import_pair(1, today)

    # then
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [entry.user.email]
    assert mail.outbox[0].subject.startswith(f"{horse} finished 2nd: ")
    # and a re-import sends nothing more
    import_pair(1, today)
    assert len(mail.outbox) == 1


def test_an_unsubscribe_between_the_read_and_the_send_wins(monkeypatch):
    # given: the alert is due when read, and the member unsubscribes before it is sent
    entry = _follow()
    _declared_run(entry.horse)
    pending = alerts_pending(today=_today())
    WatchlistEntry.objects.filter(pk=entry.pk).update(alert_declared=False)
    monkeypatch.setattr("accounts.services.alerts_pending", lambda **kwargs: pending)

    assert horse_alerts_send() == 0
    assert mail.outbox == []
    assert not SentAlert.objects.exists()


@pytest.mark.parametrize("follows", [1, 6])
def test_finding_the_alerts_due_takes_three_queries(django_assert_num_queries, follows):
    for _ in range(follows):
        entry = _follow()
        _declared_run(entry.horse)
        _settled_run(entry.horse)

    with django_assert_num_queries(3):
        pending = alerts_pending(today=_today())

    assert len(pending) == 2 * follows
