"""The prediction commands: train, evaluate and refresh, and the demo's models."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from predictions.models import ModelVersion, Prediction
from races.demo import demo_data_seed
from races.models import Race, Runner

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 20)


@pytest.fixture
def demo_races():
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)


def train_model(*args: str) -> int:
    """The id `train_model` prints."""
    out = StringIO()
    call_command("train_model", *args, stdout=out, stderr=StringIO())
    return int(out.getvalue())


def test_commands_train_evaluate_and_refresh(demo_races, settings):
    version_id = train_model("--algorithm", "logit", "--train-until", "2026-05-05", "--activate")
    assert ModelVersion.objects.get(pk=version_id).is_active

    out = StringIO()
    call_command(
        "evaluate_model",
        "--model",
        str(version_id),
        "--from",
        "2026-05-06",
        "--to",
        "2026-05-19",
        "--json",
        stdout=out,
    )
    metrics = json.loads(out.getvalue())
    assert metrics["model_version"] == version_id
    for name in ("delta_log_loss_vs_market_ci", "delta_r2_vs_market_ci"):
        low, high = metrics[name]
        assert low <= metrics[name.removesuffix("_ci")] <= high

    out = StringIO()
    call_command(
        "evaluate_model", "--model", str(version_id), "--from", "2026-05-06", "--to", "2026-05-19",
        stdout=out,
    )  # fmt: skip
    low, high = metrics["delta_r2_vs_market_ci"]
    assert f"  delta_r2_vs_market_ci         [{low:+.4f}, {high:+.4f}]\n" in out.getvalue()

    out = StringIO()
    call_command("refresh_predictions", "--date", "2026-05-20", stdout=out)
    assert f"from model versions [{version_id}]" in out.getvalue()

    with pytest.raises(CommandError, match="evaluate it from 2026-05-06"):
        call_command(
            "evaluate_model",
            "--model",
            str(version_id),
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-19",
            stdout=StringIO(),
        )
    with pytest.raises(CommandError, match="no model version 999"):
        call_command(
            "evaluate_model", "--model", "999", "--from", "2026-05-06", "--to", "2026-05-19"
        )


def test_demo_models_are_trained_once_a_day_and_predict_the_cards(settings):
    today = timezone.localdate()
    demo_data_seed(seed=5, today=today, days_ahead=1, history_days=30)
    settings.DEBUG = True
    out = StringIO()
    args = ("train_demo_models", "--algorithms", "market", "logit", "--holdout-days", "10")
    call_command(*args, stdout=out)
    call_command(*args, stdout=out)

    versions = ModelVersion.objects.all()
    holdout_until = today - datetime.timedelta(days=11)
    assert sorted(versions.values_list("algorithm", "is_active", "train_until")) == [
        ("logit", False, holdout_until),
        ("logit", True, today - datetime.timedelta(days=1)),
        ("market", False, holdout_until),
        ("market", True, today - datetime.timedelta(days=1)),
    ]
    window = f"{holdout_until + datetime.timedelta(days=1)}..{today - datetime.timedelta(days=1)}"
    for version in versions.filter(is_active=False):
        assert list(version.metrics["evaluations"]) == [window]
        assert version.metrics["evaluations"][window]["sources"] == ["demo"]
    starters = Runner.objects.filter(race__status="declared", non_runner=False).count()
    held_out = Runner.objects.filter(
        race__meeting_date__gt=holdout_until, race__status="result", non_runner=False
    ).count()
    assert Prediction.objects.filter(model_version__is_active=True).count() == 2 * starters
    assert Prediction.objects.filter(model_version__is_active=False).count() == 2 * held_out
    assert f"{2 * starters} predictions for" in out.getvalue()
    assert f"{2 * held_out} walk-forward predictions" in out.getvalue()
    assert "0 walk-forward predictions for 0 past races" in out.getvalue()  # the second run


def test_demo_models_can_skip_the_held_out_models(settings):
    demo_data_seed(seed=5, today=timezone.localdate(), days_ahead=1, history_days=30)
    settings.DEBUG = True

    call_command(
        "train_demo_models", "--algorithms", "market", "--holdout-days", "0", stdout=StringIO()
    )

    assert list(ModelVersion.objects.values_list("algorithm", "is_active")) == [("market", True)]


def test_refresh_command_takes_a_date_range(demo_races):
    version = train_model(
        "--algorithm=logit", f"--train-until={TODAY - datetime.timedelta(days=11)}"
    )
    out = StringIO()

    call_command(
        "refresh_predictions",
        "--from",
        str(TODAY - datetime.timedelta(days=10)),
        "--to",
        str(TODAY),
        "--chunk-days",
        "30",
        stdout=out,
    )

    races = Race.objects.filter(meeting_date__range=(TODAY - datetime.timedelta(days=10), TODAY))
    starters = Runner.objects.filter(race__in=races, non_runner=False).count()
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"{TODAY - datetime.timedelta(days=10)} to {TODAY}: {starters} predictions for "
        f"{races.count()} races "
        "(no version for market, lightgbm, xgboost, benter, residual, softmax)"
    )
    assert lines[1] == (
        f"{starters} predictions for {races.count()} races from model versions [{version}]"
    )
    assert Prediction.objects.count() == starters


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-05-01", "--to", "2026-05-02", "--date", "2026-05-01"],
            "cannot be combined",
        ),
        (["--from", "2026-05-01", "--to", "2026-05-02", "--race", "1"], "cannot be combined"),
        (["--from", "2026-05-01"], "--from and --to go together"),
        (["--from", "2026-05-02", "--to", "2026-05-01"], "ends \\(2026-05-01\\) before it starts"),
        (
            ["--from", "2030-01-01", "--to", "2030-01-31"],
            "no races between 2030-01-01 and 2030-01-31",
        ),
    ],
)
def test_refresh_command_refuses_a_bad_range(demo_races, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("refresh_predictions", *args, stdout=StringIO())
    assert not Prediction.objects.exists()


def test_demo_models_need_debug(demo_races):
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("train_demo_models", stdout=StringIO())
    assert not ModelVersion.objects.exists()


def test_backtest_prints_a_row_per_season_it_retrained_for():
    # given: two demo seasons with a 60-day break between them
    early = TODAY - datetime.timedelta(days=100)
    demo_data_seed(seed=5, today=early, days_ahead=0, history_days=25)
    demo_data_seed(seed=5, today=TODAY, days_ahead=0, history_days=15)
    out = StringIO()

    # when
    call_command("backtest", "--algorithm=logit", f"--from={early}", f"--to={TODAY}", stdout=out)

    # then: the first season has nothing before it to train on
    version = ModelVersion.objects.get()
    start = Race.objects.filter(meeting_date__gt=early).order_by("meeting_date").first()
    lines = out.getvalue().splitlines()
    assert lines[0] == "backtest of logit (walk-forward, retrained per season)"
    assert lines[1].split() == [
        "season", "from", "to", "version", "races", "LL", "mkt", "LL", "R2", "mkt", "R2", "dR2",
        "dR2", "90%", "interval", "top1", "fav1", "ROI", "top", "ROI", "val",
    ]  # fmt: skip
    last = Race.objects.filter(status="result").latest("meeting_date").meeting_date
    row = lines[2].split()
    assert row[:4] == ["2", str(start.meeting_date), str(last), str(version.pk)]
    low, high = (float(bound) for bound in row[10].split(".."))
    assert low <= float(row[9]) <= high
    assert len(lines) == 3
    with pytest.raises(CommandError, match="no season starts in the window"):
        call_command(
            "backtest", "--algorithm=logit", "--from=2030-01-01", "--to=2030-12-31", stdout=out
        )
