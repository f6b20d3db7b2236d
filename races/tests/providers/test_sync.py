"""Provider syncs storing racecards and results."""

import json

import pytest

from races.models import ExternalRecord, ProviderSync, Race, Racecourse, Runner
from races.providers.base import ProviderTransientError, RaceResult, RunnerResult
from races.providers.theracingapi import RACECARDS_PATH
from races.selectors import providers_status
from races.services.provider_sync import provider_sync
from races.services.race_results import race_results_store
from races.signals import race_cards_changed
from races.tests.hkracing_csv import small_pair
from races.tests.providers.recorded import BETFAIR_DAY, DAY, EMPTY_DAY, NO_RESULTS, scripted


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
    claimer = Runner.objects.select_related("jockey").get(jockey__name="Charlie Tucker")
    assert claimer.jockey_allowance_lb == 7
    one_cool = Runner.objects.get(horse__name="One Cool Dreamer")
    assert (one_cool.declared_form, one_cool.declared_days_since_run) == ("-24534", 68)
    assert not Runner.objects.filter(jockey__name__contains="(").exists()


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
def test_betfair_sync_stores_the_day_with_betfair_ids(betfair_settings):
    # when
    sync = provider_sync(provider="betfair", day=BETFAIR_DAY)

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
def test_synced_cards_are_announced_once_after_the_commit(
    racingapi_settings, django_capture_on_commit_callbacks
):
    # given: a receiver of the signal (the predictions app refreshes on it)
    sent = []
    race_cards_changed.connect(receiver := lambda **kwargs: sent.append(kwargs["race_ids"]))

    # when
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            provider_sync(provider="theracingapi", day=DAY)
            # then: nothing is announced before the commit
            assert sent == []
        for callback in callbacks:
            callback()
    finally:
        race_cards_changed.disconnect(receiver)

    # then: the synced races were named once, after the commit
    synced = list(Race.objects.filter(meeting_date=DAY).order_by("pk").values_list("pk", flat=True))
    assert len(synced) == 32
    assert sent == [synced]


def _result_counts(sync):
    return {name: sync.counts[name] for name in NO_RESULTS}


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
            RunnerResult(horses[4], non_finish=Runner.NonFinish.PULLED_UP),
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
    non_finish = dict(race.runners.values_list("horse__external_id", "non_finish"))
    assert non_finish[horses[4]] == "P"  # pulled up: a reason kept apart from "did not finish"
    assert non_finish[horses[1]] == ""
    assert (
        list(Race.objects.exclude(pk=race.pk).values_list("pk", "status", "updated_at"))
        == other_races
    )
