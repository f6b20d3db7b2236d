"""Reads for the member pages: what a member follows and the runs that involve it."""

from typing import Any

from django.db.models import F, Q, QuerySet

from races.models import Race, Runner

from .models import User, WatchlistEntry

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
