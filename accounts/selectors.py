"""Reads for the member pages (what a member follows and the runs that involve it) and for
the horse alerts (which are due)."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from races.models import Race, Runner

from .models import SentAlert, User, WatchlistEntry

WATCHLIST_HOME_LIMIT = 20


def followed_ids(*, user: User) -> dict[str, set[int]]:
    """The ids of the horses, jockeys and trainers a user follows, in one query (none when
    anonymous), for pages that show a follow button per row."""
    followed: dict[str, set[int]] = {kind: set() for kind in WatchlistEntry.KINDS}
    if not user.is_authenticated:
        return followed
    rows = WatchlistEntry.objects.filter(user=user).values_list(
        "horse_id", "jockey_id", "trainer_id"
    )
    for row in rows:
        for kind, pk in zip(WatchlistEntry.KINDS, row, strict=True):
            if pk is not None:
                followed[kind].add(pk)
    return followed


def watchlist_entries(*, user: User) -> QuerySet[WatchlistEntry]:
    """A user's entries, newest first, with the horse, jockey or trainer each one follows."""
    return WatchlistEntry.objects.filter(user=user).select_related("horse", "jockey", "trainer")


def _involving(entries: list[WatchlistEntry]) -> Q:
    ids = {kind: [e.target.pk for e in entries if e.kind == kind] for kind in WatchlistEntry.KINDS}
    return (
        Q(horse_id__in=ids["horse"])
        | Q(jockey_id__in=ids["jockey"])
        | Q(trainer_id__in=ids["trainer"])
    )


def watchlist_home(*, user: User) -> dict[str, Any]:
    """What a member's home page shows: the followed horses, jockeys and trainers, the next
    declared runs involving any of them and their latest results.

    Three queries however many are followed (one when nothing is).
    """
    entries = list(watchlist_entries(user=user))
    if not entries:
        return {"entries": [], "next_runners": [], "latest_results": []}
    runners = Runner.objects.filter(_involving(entries)).select_related(
        "race__racecourse", "horse", "jockey", "trainer"
    )
    next_runners = runners.upcoming().order_by(
        "race__meeting_date",
        F("race__post_time").asc(nulls_last=True),
        "race__racecourse__name",
        "race__race_number",
        "saddle_number",
    )
    latest_results = runners.filter(race__status=Race.Status.RESULT).order_by(
        "-race__meeting_date",
        F("race__post_time").desc(nulls_last=True),
        "race__racecourse__name",
        "-race__race_number",
        F("finish_position").asc(nulls_last=True),
    )
    return {
        "entries": entries,
        "next_runners": list(next_runners[:WATCHLIST_HOME_LIMIT]),
        "latest_results": list(latest_results[:WATCHLIST_HOME_LIMIT]),
    }


# How far back a result may be and still be e-mailed: a sync or import that brings in older
# results (a back-fill) sends nothing about them.
RESULT_ALERT_DAYS = 3


@dataclass(frozen=True)
class PendingAlert:
    """An alert e-mail due: this follow's horse has this runner, and this event happened."""

    entry: WatchlistEntry
    runner: Runner
    event: str


def alerts_pending(*, today: datetime.date) -> list[PendingAlert]:
    """The alerts due and not yet sent, soonest race first: for each followed horse with
    alerts on (its member active and with an e-mail address), its declared runs from `today` on
    and its results of the last `RESULT_ALERT_DAYS` days since the alerts were turned on.
    Three queries however many follows and runners."""
    entries = list(
        WatchlistEntry.objects.filter(horse__isnull=False, user__is_active=True)
        .filter(Q(alert_declared=True) | Q(alert_result=True))
        .exclude(user__email="")
        .select_related("user")
    )
    if not entries:
        return []
    by_horse: dict[int, list[WatchlistEntry]] = {}
    for entry in entries:
        by_horse.setdefault(entry.horse_id, []).append(entry)
    oldest_result = today - datetime.timedelta(days=RESULT_ALERT_DAYS)
    runners = (
        Runner.objects.starters()
        .filter(horse_id__in=list(by_horse))
        .filter(
            Q(race__status=Race.Status.DECLARED, race__meeting_date__gte=today)
            | Q(race__status=Race.Status.RESULT, race__meeting_date__gte=oldest_result)
        )
        .with_field_size()
        .select_related("race__racecourse", "horse", "jockey", "trainer")
        .order_by(
            "race__meeting_date", F("race__post_time").asc(nulls_last=True), "race__race_number"
        )
    )
    runners = list(runners)
    sent = set(
        SentAlert.objects.filter(entry__in=entries, runner__in=runners).values_list(
            "entry_id", "runner_id", "event"
        )
    )
    pending = []
    for runner in runners:
        for entry in by_horse[runner.horse_id]:
            event = _alert_event(entry, runner, oldest_result)
            if event is not None and (entry.pk, runner.pk, event) not in sent:
                pending.append(PendingAlert(entry=entry, runner=runner, event=event))
    return pending


def _alert_event(entry: WatchlistEntry, runner: Runner, oldest: datetime.date) -> str | None:
    race = runner.race
    if race.status == Race.Status.DECLARED:
        return SentAlert.Event.DECLARED if entry.alert_declared else None
    since = max(entry.alerts_since or oldest, oldest)
    if entry.alert_result and race.meeting_date >= since:
        return SentAlert.Event.RESULT
    return None
