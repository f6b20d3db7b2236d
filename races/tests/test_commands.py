import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from races.models import Race, Runner
from races.tests.hkracing_csv import RUN_HEADER, run_row, small_pair, to_csv

pytestmark = pytest.mark.django_db


def write_pair(folder, races_csv: str, runs_csv: str):
    (folder / "races.csv").write_text(races_csv)
    (folder / "runs.csv").write_text(runs_csv)
    return folder


def test_import_prints_the_counts(tmp_path):
    folder = write_pair(tmp_path, *small_pair())
    out = StringIO()

    call_command("import_hkracing", folder, stdout=out)

    assert "races: 3 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "runners: 6 created, 0 updated, 0 unchanged" in out.getvalue()
    assert "Import finished." in out.getvalue()


def test_errors_name_file_line_and_column_and_nothing_is_written(tmp_path):
    races_csv, _ = small_pair()
    runs = [run_row(0, 1, 1, win_odds="abc"), run_row(0, 2, 2, horse_id="x")]
    folder = write_pair(tmp_path, races_csv, to_csv(RUN_HEADER, runs))

    with pytest.raises(CommandError) as caught:
        call_command("import_hkracing", folder)

    assert str(caught.value) == (
        f"Nothing was imported: 2 errors in {folder}:\n"
        f"  {folder}/runs.csv, line 2, column win_odds: 'abc' is not a number\n"
        f"  {folder}/runs.csv, line 3, column horse_id: 'x' is not a number"
    )
    assert Race.objects.count() == 0


@pytest.mark.parametrize(
    ("present", "missing"), [("races.csv", "runs.csv"), ("runs.csv", "races.csv")]
)
def test_a_missing_file_is_named(tmp_path, present, missing):
    (tmp_path / present).write_text("race_id\n")

    with pytest.raises(CommandError) as caught:
        call_command("import_hkracing", tmp_path)

    assert str(caught.value) == f"{tmp_path / missing} does not exist or is not a file"
    assert Race.objects.count() == 0


@pytest.mark.shared_data
def test_the_whole_shared_set_imports_exactly_once(shared_data_dir, tmp_path):
    source = shared_data_dir / "hkracing"

    # when: imported twice
    first, second = StringIO(), StringIO()
    call_command("import_hkracing", source, stdout=first)
    call_command("import_hkracing", source, stdout=second)

    # then
    assert Race.objects.count() == 5324
    assert Runner.objects.count() == 66637
    assert "runners: 66637 created, 0 updated, 0 unchanged" in first.getvalue()
    assert "races: 0 created, 0 updated, 5324 unchanged" in second.getvalue()
    assert "runners: 0 created, 0 updated, 66637 unchanged" in second.getvalue()
    assert Runner.objects.filter(finish_position=1).count() == 5334  # dead heats for first
    assert Runner.objects.filter(win_odds__isnull=True).count() == 2

    # and a copy with a bad number, an unknown race id and a duplicate runner is refused
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(source / "races.csv", bad / "races.csv")
    lines = (source / "runs.csv").read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[5].rstrip("\n").split(",")
    cells[header.index("win_odds")] = "9..7"
    lines[5] = ",".join(cells) + "\n"
    cells = lines[10].rstrip("\n").split(",")
    cells[header.index("race_id")] = "99999"
    lines[10] = ",".join(cells) + "\n"
    lines.insert(20, lines[19])
    (bad / "runs.csv").write_text("".join(lines))
    before = list(Runner.objects.order_by("pk").values_list("pk", "win_odds", "race_id"))

    with pytest.raises(CommandError) as caught:
        call_command("import_hkracing", bad)

    message = str(caught.value)
    assert "3 errors" in message
    assert f"{bad}/runs.csv, line 6, column win_odds: '9..7' is not a number" in message
    assert f"{bad}/runs.csv, line 11, column race_id: race 99999 is not in" in message
    assert f"{bad}/runs.csv, line 21, column horse_id: horse" in message
    assert list(Runner.objects.order_by("pk").values_list("pk", "win_odds", "race_id")) == before
