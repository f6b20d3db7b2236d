import html
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from races.models import HkracingUpload, Horse, Jockey, Race, Racecourse, Runner, Trainer

from .factories import (
    HorseFactory,
    JockeyFactory,
    RacecourseFactory,
    RaceFactory,
    RunnerFactory,
    TrainerFactory,
)

MODELS = [Racecourse, Race, Runner, Horse, Jockey, Trainer]
IMPORT_URL = "/admin/races/race/import-hkracing/"


def _admin_url(model, view, *args):
    return reverse(f"admin:races_{model._meta.model_name}_{view}", args=args)


def _races(count, runners_each, racecourse=None):
    racecourse = racecourse or RacecourseFactory()
    races = RaceFactory.create_batch(count, racecourse=racecourse, status=Race.Status.RESULT)
    for race in races:
        RunnerFactory.create_batch(runners_each, race=race)
    return races


def _queries(client, url, params=None):
    # The admin looks content types up through a process-wide cache; start each page cold.
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


# Pages


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_open(staff_client, model):
    # given
    RunnerFactory()
    obj = model.objects.get()

    # when
    responses = [
        staff_client.get(_admin_url(model, "changelist")),
        staff_client.get(_admin_url(model, "add")),
        staff_client.get(_admin_url(model, "change", obj.pk)),
    ]

    # then
    assert [response.status_code for response in responses] == [200, 200, 200]


@pytest.mark.django_db
def test_race_changelist_shows_field_size_and_winner(staff_client):
    # given: three starters and a non-runner
    race = RaceFactory(status=Race.Status.RESULT)
    RunnerFactory(race=race, finish_position=2)
    RunnerFactory(race=race, finish_position=1, horse=HorseFactory(name="Golden Sixty"))
    RunnerFactory(race=race, finish_position=3)
    RunnerFactory(race=race, non_runner=True, win_odds=None)

    # when
    response = staff_client.get(_admin_url(Race, "changelist"))

    # then
    [row] = response.context["cl"].result_list
    assert (row.field_size, row.winner_name) == (3, "Golden Sixty")
    assert b'<td class="field-winner">Golden Sixty</td>' in response.content


@pytest.mark.django_db
def test_race_changelist_names_a_winner_known_by_id_only(staff_client):
    race = RaceFactory()
    RunnerFactory(race=race, finish_position=1, horse=HorseFactory(name="", external_id="3917"))

    response = staff_client.get(_admin_url(Race, "changelist"))

    [row] = response.context["cl"].result_list
    assert row.winner_name == "Horse #3917"


@pytest.mark.django_db
def test_race_change_page_shows_derived_fields(staff_client):
    # given: a 75% book (1/2 + 1/4) and a non-runner whose price does not count
    race = RaceFactory(status=Race.Status.RESULT)
    RunnerFactory(race=race, win_odds=Decimal("2.00"), finish_position=1)
    RunnerFactory(race=race, win_odds=Decimal("4.00"), finish_position=2)
    RunnerFactory(race=race, win_odds=Decimal("3.00"), non_runner=True)

    # when
    response = staff_client.get(_admin_url(Race, "change", race.pk))

    # then
    page = response.content.decode()
    assert '<div class="readonly">75.0%</div>' in page
    assert '<div class="readonly">2</div>' in page  # field size
    implied = re.findall(r'class="field-implied_probability">\s*<p>(.*?)</p>', page)
    assert implied == ["50.0%", "25.0%", "33.3%", "-"]  # the last: the template for a new row


@pytest.mark.django_db
def test_runner_changelist_shows_position_marks(staff_client):
    race = RaceFactory()
    RunnerFactory(race=race, saddle_number=1, finish_position=1, dead_heat=True)
    RunnerFactory(race=race, saddle_number=2, non_runner=True)

    response = staff_client.get(_admin_url(Runner, "changelist"))

    page = response.content.decode()
    assert '<td class="field-position">1=</td>' in page
    assert '<td class="field-position">NR</td>' in page


# Query counts: each page costs the same number of queries however many rows it shows.

# Every page starts with two: the session and the user.
CHANGELIST_QUERIES = {
    Racecourse: 6,  # full count, count, rows, country filter
    Race: 8,  # count, rows, racecourse filter, date hierarchy (2), class filter (going: choices)
    Runner: 4,  # count, rows
    Horse: 5,  # count, rows, country filter (sex: choices)
    Jockey: 4,
    Trainer: 4,
}
RACE_CHANGE_PAGE_QUERIES = 6  # race, runners, content type, overround


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, model
):
    url = _admin_url(model, "changelist")
    bound = CHANGELIST_QUERIES[model]
    # given: 3 races of 4 runners, on two racecourses
    _races(3, 4)
    RacecourseFactory()
    with django_assert_max_num_queries(bound):
        few = _queries(staff_client, url)

    # given: 30 races of 6 runners, on seven racecourses
    for _ in range(3):
        _races(9, 6)
    RacecourseFactory.create_batch(2)
    with django_assert_max_num_queries(bound):
        many = _queries(staff_client, url)

    # then
    assert few == many == bound


@pytest.mark.django_db
def test_race_change_page_queries_do_not_grow_with_runners(
    staff_client, django_assert_max_num_queries
):
    # given
    [small] = _races(1, 4)
    [large] = _races(1, 14)

    # when
    with django_assert_max_num_queries(RACE_CHANGE_PAGE_QUERIES):
        few = _queries(staff_client, _admin_url(Race, "change", small.pk))
    with django_assert_max_num_queries(RACE_CHANGE_PAGE_QUERIES):
        many = _queries(staff_client, _admin_url(Race, "change", large.pk))

    # then
    assert few == many == RACE_CHANGE_PAGE_QUERIES


@pytest.mark.django_db
def test_runner_change_page_queries(staff_client, django_assert_num_queries):
    runner = RunnerFactory()

    # runner with its race, racecourse, horse, jockey and trainer; content type
    with django_assert_num_queries(4):
        _queries(staff_client, _admin_url(Runner, "change", runner.pk))

    # The autocompletes still show what is selected.
    page = staff_client.get(_admin_url(Runner, "change", runner.pk)).content.decode()
    assert f'<option value="{runner.race_id}" selected>{runner.race}</option>' in page
    assert f'<option value="{runner.horse_id}" selected>{runner.horse}</option>' in page


@pytest.mark.django_db
def test_staff_edit_the_card_details_a_provider_may_leave_out(staff_client):
    runner = RunnerFactory()

    runner_page = staff_client.get(_admin_url(Runner, "change", runner.pk)).content.decode()
    course_page = staff_client.get(
        _admin_url(Racecourse, "change", runner.race.racecourse_id)
    ).content.decode()

    assert 'name="jockey_allowance_lb"' in runner_page
    assert '<option value="P">Pulled up</option>' in runner_page
    assert '<option value="hong_kong">Hong Kong place pool</option>' in course_page


@pytest.mark.django_db
def test_race_change_page_saves_runner_edits(staff_client):
    # given
    race = RaceFactory()
    runner = RunnerFactory(race=race, saddle_number=1, jockey=None)
    new_jockey = JockeyFactory()
    data = {
        "racecourse": race.racecourse_id,
        "meeting_date": race.meeting_date.isoformat(),
        "race_number": race.race_number,
        "post_time_0": "",
        "post_time_1": "",
        "name": race.name,
        "distance_m": 1400,
        "surface": race.surface,
        "going": race.going,
        "race_class": race.race_class,
        "rating_band": "",
        "rail": "",
        "prize": "",
        "prize_currency": "",
        "status": Race.Status.RESULT,
        "sectional_times": "[]",
        "source": race.source,
        "external_id": race.external_id,
        "runners-TOTAL_FORMS": "1",
        "runners-INITIAL_FORMS": "1",
        "runners-MIN_NUM_FORMS": "0",
        "runners-MAX_NUM_FORMS": "1000",
        "runners-0-id": runner.pk,
        "runners-0-race": race.pk,
        "runners-0-saddle_number": "1",
        "runners-0-horse": runner.horse_id,
        "runners-0-jockey": new_jockey.pk,
        "runners-0-trainer": runner.trainer_id,
        "runners-0-draw": "3",
        "runners-0-carried_weight_lb": "126",
        "runners-0-rating": "60",
        "runners-0-win_odds": "4.50",
        "runners-0-finish_position": "1",
    }

    # when
    response = staff_client.post(_admin_url(Race, "change", race.pk), data)

    # then
    assert response.status_code == 302
    runner.refresh_from_db()
    assert (runner.jockey, runner.win_odds, runner.finish_position) == (
        new_jockey,
        Decimal("4.50"),
        1,
    )
    race.refresh_from_db()
    assert (race.distance_m, race.status) == (1400, Race.Status.RESULT)


@pytest.mark.django_db
def test_race_change_page_labels_runners_without_a_query_each(staff_client):
    [race] = _races(1, 3)
    runner = race.runners.first()

    response = staff_client.get(_admin_url(Race, "change", race.pk))

    # The autocompletes still render the selected horse, jockey and trainer.
    page = response.content.decode()
    for name in ("horse", "jockey", "trainer"):
        related = getattr(runner, name)
        assert f'<option value="{related.pk}" selected>{related.name}</option>' in page


# Search and filters


def _participant(factory):
    return lambda name, external_id: factory(name=name, external_id=external_id)


SEARCHES = [
    pytest.param(
        Runner,
        lambda name, external_id: RunnerFactory(
            horse=HorseFactory(name=name, external_id=external_id)
        ),
        ("Beauty Generation", "4321"),
        ("Romantic Warrior", "43210"),
        ("beauty gen", "4321"),
        id="runner-by-horse-name-and-external-id",
    ),
    *(
        pytest.param(
            model,
            _participant(factory),
            ("Zac Purton", "77"),
            ("Joao Moreira", "777"),
            ("purton", "77"),
            id=f"{model.__name__.lower()}-by-name-and-external-id",
        )
        for model, factory in (
            (Horse, HorseFactory),
            (Jockey, JockeyFactory),
            (Trainer, TrainerFactory),
        )
    ),
    pytest.param(
        Race,
        lambda code, name: RaceFactory(racecourse=RacecourseFactory(code=code, name=name)),
        ("HV", "Happy Valley"),
        ("ST", "Sha Tin"),
        ("HV", "happy"),
        id="race-by-course-code-and-name",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "make", "wanted", "other", "queries"), SEARCHES)
def test_admin_search_finds_each_way_it_is_meant_to(
    staff_client, model, make, wanted, other, queries
):
    # given one row that matches and one whose name or id only nearly does
    wanted = make(*wanted)
    make(*other)
    url = _admin_url(model, "changelist")

    # when / then: each search finds the one row
    for query in queries:
        assert list(staff_client.get(url, {"q": query}).context["cl"].result_list) == [wanted]


@pytest.mark.django_db
def test_race_filters(staff_client):
    # given
    course = RacecourseFactory()
    result = RaceFactory(racecourse=course, status=Race.Status.RESULT, going="good")
    RaceFactory(racecourse=course, status=Race.Status.DECLARED, going="good")
    RaceFactory(status=Race.Status.RESULT, going="yielding")
    url = _admin_url(Race, "changelist")

    # when
    response = staff_client.get(
        url, {"status__exact": "result", "racecourse__id__exact": course.pk, "going": "good"}
    )

    # then
    assert list(response.context["cl"].result_list) == [result]


@pytest.mark.django_db
def test_runner_filters(staff_client):
    declared = RaceFactory(status=Race.Status.DECLARED)
    non_runner = RunnerFactory(race=declared, non_runner=True)
    RunnerFactory(race=declared)
    RunnerFactory(race=RaceFactory(status=Race.Status.RESULT), non_runner=True)
    url = _admin_url(Runner, "changelist")

    response = staff_client.get(url, {"race__status__exact": "declared", "non_runner__exact": "1"})

    assert list(response.context["cl"].result_list) == [non_runner]


@pytest.mark.django_db
def test_autocomplete_finds_races_by_course_code(staff_client):
    race = RaceFactory(racecourse=RacecourseFactory(code="HV"))
    RaceFactory(racecourse=RacecourseFactory(code="ST"))

    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "races", "model_name": "runner", "field_name": "race", "term": "HV"},
    )

    assert response.json()["results"] == [{"id": str(race.pk), "text": str(race)}]


# The Hong Kong CSV upload

RACES_CSV = """\
race_id,date,venue,race_no,config,surface,distance,going,horse_ratings,prize,race_class,\
sec_time1,sec_time2,sec_time3,sec_time4,sec_time5,sec_time6,sec_time7,\
time1,time2,time3,time4,time5,time6,time7,\
place_combination1,place_combination2,place_combination3,place_combination4,\
place_dividend1,place_dividend2,place_dividend3,place_dividend4,\
win_combination1,win_dividend1,win_combination2,win_dividend2
0,1997-06-02,ST,1,A,0,1400,GOOD TO FIRM,40-15,485000.0,5,13.53,21.59,23.94,23.58,,,,\
13.53,35.12,59.06,82.64,,,,2,1,3,,15.5,25.5,18.0,,2,121.0,,
1,1997-06-02,ST,2,A,0,1200,GOOD TO FIRM,40-15,485000.0,5,24.05,22.64,23.7,,,,,\
24.05,46.69,70.39,,,,,1,2,,,12.5,47.0,,,1,23.5,,
"""
RUNS_HEADER = """\
race_id,horse_no,horse_id,result,won,lengths_behind,horse_age,horse_country,horse_type,\
horse_rating,horse_gear,declared_weight,actual_weight,draw,\
position_sec1,position_sec2,position_sec3,position_sec4,position_sec5,position_sec6,\
behind_sec1,behind_sec2,behind_sec3,behind_sec4,behind_sec5,behind_sec6,\
time1,time2,time3,time4,time5,time6,finish_time,win_odds,place_odds,trainer_id,jockey_id
"""
RUN_0_1 = (
    "0,1,3917,2,0.0,1.25,3,AUS,Gelding,60,--,1020.0,133,7,6,4,6,2,,,"
    "2.0,2.0,1.5,1.25,,,13.85,21.59,23.86,24.62,,,83.92,9.7,3.7,118,2\n"
)
RUNS_CSV = (
    RUNS_HEADER + RUN_0_1 + "0,2,2157,1,1.0,0.0,3,NZ,Gelding,60,--,980.0,133,12,12,13,13,1,,,"
    "6.5,9.0,5.0,0.0,,,14.57,21.99,23.3,23.7,,,83.56,3.5,1.5,164,57\n"
    "0,3,858,3,0.0,4.75,3,NZ,Gelding,60,B/TT,1082.0,132,8,3,2,2,3,,,"
    "1.0,1.0,0.75,4.75,,,13.69,21.59,23.9,24.22,,,84.4,16.0,4.9,137,18\n"
    "1,1,1853,1,1.0,0.0,3,SAF,Gelding,60,--,1118.0,127,13,8,8,1,,,,"
    "3.5,5.0,0.0,,,,24.09,22.83,23.7,,,,70.62,2.9,1.2,80,59\n"
    "1,2,2796,2,0.0,3.75,3,GB,Gelding,60,--,972.0,131,14,13,12,2,,,,"
    "7.75,8.75,3.75,,,,24.77,22.75,23.22,,,,71.24,5.0,1.9,9,154\n"
)
# Line 3 has a bad number, line 4 an unknown race and line 5 repeats line 2's runner.
BAD_RUNS_CSV = (
    RUNS_HEADER + RUN_0_1 + "0,2,2157,1,1.0,0.0,3,NZ,Gelding,60,--,980.0,133,12,12,13,13,1,,,"
    "6.5,9.0,5.0,0.0,,,14.57,21.99,23.3,23.7,,,83.56,abc,1.5,164,57\n"
    "99,1,1853,1,1.0,0.0,3,SAF,Gelding,60,--,1118.0,127,13,8,8,1,,,,"
    "3.5,5.0,0.0,,,,24.09,22.83,23.7,,,,70.62,2.9,1.2,80,59\n" + RUN_0_1
)


def _upload(races=RACES_CSV, runs=RUNS_CSV):
    encode = lambda text: text if isinstance(text, bytes) else text.encode()  # noqa: E731
    return {
        "races_file": SimpleUploadedFile("races.csv", encode(races), content_type="text/csv"),
        "runs_file": SimpleUploadedFile("runs.csv", encode(runs), content_type="text/csv"),
    }


@pytest.fixture
def importer_client(client, django_user_model):
    """A staff member who may add races and runners, and nothing else."""
    user = django_user_model.objects.create_user(username="clerk", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="races", codename__in=["add_race", "add_runner", "view_race"]
        )
    )
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_import_page_opens_for_staff(staff_client):
    response = staff_client.get(IMPORT_URL)

    assert response.status_code == 200
    assert reverse("admin:races_race_import_hkracing") == IMPORT_URL
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrfmiddlewaretoken"' in page


@pytest.mark.django_db
def test_import_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get(IMPORT_URL)

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={IMPORT_URL}"


@pytest.mark.django_db
def test_import_is_forbidden_without_the_add_permissions(client, django_user_model):
    # given: staff who may only look at races
    user = django_user_model.objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_race"))
    client.force_login(user)

    # when
    page = client.get(IMPORT_URL)
    upload = client.post(IMPORT_URL, _upload())
    changelist = client.get(_admin_url(Race, "changelist"))

    # then
    assert (page.status_code, upload.status_code) == (403, 403)
    assert Race.objects.count() == 0
    assert changelist.status_code == 200
    assert "Import Hong Kong CSV" not in changelist.content.decode()


@pytest.mark.django_db
def test_race_changelist_links_to_the_import(importer_client):
    response = importer_client.get(_admin_url(Race, "changelist"))

    assert f'<a href="{IMPORT_URL}">Import Hong Kong CSV</a>' in response.content.decode()


@pytest.fixture
def imported(importer_client, django_capture_on_commit_callbacks, celery_eager):
    """Upload through the admin and run the import it queues, in-process."""

    def post(upload):
        with django_capture_on_commit_callbacks(execute=True):
            return importer_client.post(IMPORT_URL, upload)

    return post


@pytest.mark.django_db
def test_import_of_a_valid_pair(importer_client, imported):
    # when
    response = imported(_upload())

    # then: sent to the job's page, which shows what was imported
    job = HkracingUpload.objects.get()
    assert response.status_code == 302
    assert response.url == _admin_url(HkracingUpload, "change", job.pk)
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "The files are stored and queued for import; this page shows how it goes (reload it)."
    ]
    assert (job.status, job.races_name, job.runs_name, job.uploaded_by.username) == (
        HkracingUpload.Status.SUCCEEDED,
        "races.csv",
        "runs.csv",
        "clerk",
    )
    assert job.summary[:2] == [
        "racecourses: 2 created, 0 updated, 0 unchanged",
        "horses: 5 created, 0 updated, 0 unchanged",
    ]
    assert (Race.objects.count(), Runner.objects.count(), Horse.objects.count()) == (2, 5, 5)
    winner = Runner.objects.get(race__external_id="0", finish_position=1)
    assert (winner.horse.external_id, winner.win_odds) == ("2157", Decimal("3.50"))
    page = html.unescape(importer_client.get(response.url).content.decode())
    assert "Succeeded" in page
    assert "races: 2 created, 0 updated, 0 unchanged" in page
    assert "runners: 5 created, 0 updated, 0 unchanged" in page


@pytest.mark.django_db
def test_import_rejects_a_pair_with_errors_and_writes_nothing(importer_client, imported):
    # given: an earlier import
    imported(_upload())
    before = [sorted(model.objects.values_list("pk", "updated_at")) for model in (Race, Runner)]

    # when
    response = imported(_upload(races=RACES_CSV.replace("GOOD TO FIRM", "GOOD"), runs=BAD_RUNS_CSV))

    # then: the race tables as they were, the job failed with each error and its line
    job = HkracingUpload.objects.get(pk=response.url.split("/")[-3])
    assert job.status == HkracingUpload.Status.FAILED
    assert job.error.startswith("Nothing was imported: 3 errors in the upload; the first: ")
    assert job.errors == [
        "runs.csv, line 3, column win_odds: 'abc' is not a number",
        "runs.csv, line 4, column race_id: race 99 is not in races.csv",
        "runs.csv, line 5, column horse_id: horse 3917 already runs in race 0 on line 2",
    ]
    after = [sorted(model.objects.values_list("pk", "updated_at")) for model in (Race, Runner)]
    assert after == before
    page = html.unescape(importer_client.get(response.url).content.decode())
    assert "Failed" in page
    assert "runs.csv, line 4, column race_id: race 99 is not in races.csv" in page


@pytest.mark.django_db
def test_import_reads_files_saved_with_a_byte_order_mark(imported):
    # Spreadsheet programs save "CSV UTF-8" with a BOM in front of the header.
    upload = _upload(races="\ufeff" + RACES_CSV, runs="\ufeff" + RUNS_CSV)

    response = imported(upload)

    assert response.status_code == 302
    assert HkracingUpload.objects.get().status == HkracingUpload.Status.SUCCEEDED
    assert (Race.objects.count(), Runner.objects.count()) == (2, 5)


@pytest.mark.django_db
def test_import_rejects_a_file_that_is_not_utf8(
    importer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = importer_client.post(IMPORT_URL, _upload(runs=RUNS_CSV.encode("utf-16")))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "runs_file": ["runs.csv is not UTF-8 text; save it as CSV (UTF-8) and upload it again."]
    }
    assert (HkracingUpload.objects.count(), len(callbacks)) == (0, 0)
    assert (Race.objects.count(), Runner.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_import_refuses_a_file_over_the_size_limit_naming_it(
    importer_client, django_capture_on_commit_callbacks, settings
):
    # given: a 1 MB limit, and a races file one byte over it
    settings.HRP_HKRACING_UPLOAD_MAX_MB = 1
    races = RACES_CSV.encode() + b"x" * (1024 * 1024 + 1 - len(RACES_CSV))

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = importer_client.post(IMPORT_URL, _upload(races=races))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "races_file": [
            "races.csv is 1.0 MB; the limit is 1 MB a file (HRP_HKRACING_UPLOAD_MAX_MB)."
        ]
    }
    assert (HkracingUpload.objects.count(), len(callbacks)) == (0, 0)


@pytest.mark.django_db
def test_the_shared_data_set_uploads_through_the_admin(imported, shared_data_dir, settings):
    # given: the real Hong Kong pair; runs.csv (9 MB) is over Django's 2.5 MB in-memory limit
    folder = shared_data_dir / "hkracing"
    upload = {
        name: SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
        for name, path in [
            ("races_file", folder / "races.csv"),
            ("runs_file", folder / "runs.csv"),
        ]
    }
    assert upload["runs_file"].size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE

    # when
    response = imported(upload)

    # then
    job = HkracingUpload.objects.get()
    assert response.status_code == 302
    assert (job.status, bytes(job.races_data), bytes(job.runs_data)) == (
        HkracingUpload.Status.SUCCEEDED,
        (folder / "races.csv").read_bytes(),
        (folder / "runs.csv").read_bytes(),
    )
    races = len((folder / "races.csv").read_text(encoding="utf-8-sig").splitlines()) - 1
    assert Race.objects.count() == races


@pytest.mark.django_db
def test_import_requires_both_files(importer_client):
    upload = _upload()
    del upload["runs_file"]

    response = importer_client.post(IMPORT_URL, upload)

    assert response.status_code == 200
    assert response.context["form"].errors == {"runs_file": ["This field is required."]}
    assert (Race.objects.count(), HkracingUpload.objects.count()) == (0, 0)
