"""Reads for the prediction engine: the runner frame from the race tables, model versions."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connections
from django.db.models import Count, F, FloatField, Max, QuerySet, Window
from django.db.models.functions import Cast, RowNumber, Upper
from django.utils import timezone
from pandas.api.types import union_categoricals

from races.models import Race, Runner
from races.place_terms import PlaceTerms, race_place_terms
from races.selectors import CardHistory, card_histories, race_day_histories, race_day_results

from .ml.frame import FRAME_COLUMNS
from .ml.history import KeptHistory
from .models import ModelVersion, Prediction, SettledHistoryMark

# Frame column -> Runner lookup or expression. Decimals arrive as floats (cheaper to read) and
# the going in upper case; the sectional positions are a list, split below.
_LOOKUPS = {
    "runner_id": "pk",
    "race_id": "race_id",
    "meeting_date": "race__meeting_date",
    "racecourse_id": "race__racecourse_id",
    "race_number": "race__race_number",
    "distance_m": "race__distance_m",
    "surface": "race__surface",
    "going": Upper("race__going"),
    "race_class": "race__race_class",
    "status": "race__status",
    "horse_id": "horse_id",
    "jockey_id": "jockey_id",
    "trainer_id": "trainer_id",
    "saddle_number": "saddle_number",
    "draw": "draw",
    "carried_weight_lb": "carried_weight_lb",
    "declared_weight_lb": Cast("declared_weight_lb", FloatField()),
    "rating": "rating",
    "age": "age",
    "win_odds": Cast("win_odds", FloatField()),
    "finish_position": "finish_position",
    "lengths_behind": Cast("lengths_behind", FloatField()),
    "finish_time": Cast("finish_time", FloatField()),
    "section_positions": "section_positions",
    "non_runner": "non_runner",
}
_FRAME_ORDER = ("race__meeting_date", "race_id", "saddle_number")
# Rows converted to the frame's compact dtypes at a time: the cursor's Python objects take
# about twenty times the frame's bytes, so only this many exist at once.
_CHUNK_ROWS = 50_000


def runner_frame(runners: QuerySet[Runner]) -> pd.DataFrame:
    """The runners as a frame in the layout of `predictions.ml.frame` (one query).

    The rows come straight from a server-side cursor in chunks, each turned into the frame's
    compact dtypes before the next is fetched: the ORM's per-row conversions cost three times
    the query itself on the full history, and 800,000 runners as Python objects alone would
    take most of the 2 GB worker (reading them at once and building their features peaked at
    2.8 GB).
    """
    query = runners.order_by(*_FRAME_ORDER).values_list(*_LOOKUPS.values()).query
    sql, params = query.sql_with_params()
    chunks = []
    with connections[runners.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            chunks.append(_frame_chunk(rows))
    chunks = chunks or [_frame_chunk([])]
    frame = {}
    for column, dtype in FRAME_COLUMNS.items():
        parts = [chunk[column] for chunk in chunks]
        if dtype == "category":
            frame[column] = union_categoricals(parts)
        else:
            frame[column] = np.concatenate(parts)
        for chunk in chunks:
            del chunk[column]  # each column's chunks go as soon as they are joined
    return pd.DataFrame(frame, copy=False)


def _frame_chunk(rows: list[tuple]) -> dict[str, Any]:
    """Cursor rows as one array (or categorical) per frame column, in the frame's dtypes."""
    values = dict(zip(_LOOKUPS, zip(*rows, strict=True), strict=True)) if rows else {}
    sections = list(values.pop("section_positions", ()))
    if sections and isinstance(sections[0], str):
        # One parse of one document is an order of magnitude faster than one per row.
        sections = json.loads(f"[{','.join(sections)}]")
    values["early_position"] = [s[0] if s else None for s in sections]
    values["late_position"] = [s[-2] if len(s) >= 2 else None for s in sections]
    chunk: dict[str, Any] = {}
    for column, dtype in FRAME_COLUMNS.items():
        column_values = values.get(column, ())
        if dtype == "category":
            chunk[column] = pd.Categorical(column_values)
        elif dtype == "datetime64[ns]":
            # Dates come as date objects (PostgreSQL) or ISO strings (SQLite).
            chunk[column] = np.array(column_values, dtype="datetime64[D]").astype(dtype)
        else:
            # None -> NaN in the float columns.
            chunk[column] = np.array(column_values, dtype=dtype)
    return chunk


def training_frame(*, train_until: datetime.date, train_from: datetime.date | None = None):
    """Settled starters of races up to `train_until` (inclusive)."""
    runners = Runner.objects.settled_starters().filter(race__meeting_date__lte=train_until)
    if train_from is not None:
        runners = runners.filter(race__meeting_date__gte=train_from)
    return runner_frame(runners)


def frame_with_history(*, race_ids: Iterable[int]) -> tuple[pd.DataFrame, pd.Series]:
    """The races' runners plus every settled run before the last of their days.

    Returns the frame and a boolean mask of the target races' rows. History is what the feature
    builder may look at; it keeps to rows before each target's own day.
    """
    race_ids = list(race_ids)
    targets = runner_frame(Runner.objects.filter(race_id__in=race_ids))
    if targets.empty:
        return targets, pd.Series(dtype=bool)
    history = settled_history()
    history = history[
        (history["meeting_date"] < targets["meeting_date"].max())
        & ~history["race_id"].isin(race_ids)
    ]
    frame = pd.concat([history, targets], ignore_index=True).sort_values(
        ["meeting_date", "race_id", "saddle_number"], ignore_index=True
    )
    return frame, frame["race_id"].isin(race_ids)


def frame_with_kept_history(
    *, race_ids: Iterable[int]
) -> tuple[pd.DataFrame, pd.Series, KeptHistory]:
    """The races' runners plus the settled runs of their horses, jockeys and trainers before the
    last of their days, the targets' mask, and the kept history to build their features with
    (`build_features(frame, targets=mask, kept=kept)` equals the features on
    `frame_with_history`). One query for the targets while the history is unchanged."""
    targets = runner_frame(Runner.objects.filter(race_id__in=list(race_ids)))
    kept = kept_history()
    if targets.empty:
        return targets, pd.Series(dtype=bool), kept
    frame, mask = kept.frame_for(targets)
    return frame, mask, kept


_history_cache: dict[str, tuple[tuple, KeptHistory]] = {}


def settled_history() -> pd.DataFrame:
    """Every settled starter (`kept_history().frame`)."""
    return kept_history().frame


def kept_history() -> KeptHistory:
    """Every settled starter and what is derived from all of it, read once per process and
    again only after the data changed.

    Refreshing a race card needs the whole history's races for its features; reading and
    deriving them costs most of a cold refresh, and the beat schedule refreshes every few
    minutes while results change a few times a day. The fingerprint (`_history_fingerprint`) is
    checked on every call, so the database stays the source of truth.
    """
    database = connections["default"].settings_dict["NAME"]
    fingerprint = _history_fingerprint()
    cached = _history_cache.get(database)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    kept = KeptHistory(runner_frame(Runner.objects.settled_starters()))
    _history_cache[database] = (fingerprint, kept)
    return kept


def _history_fingerprint() -> tuple:
    """What changes whenever the settled history does: on PostgreSQL the token its triggers
    renew (`SettledHistoryMark`), one row; elsewhere how many settled starters there are and
    when the last of them and of their races was saved, an aggregate over the history."""
    if connections["default"].vendor == "postgresql":
        return (SettledHistoryMark.objects.values_list("token", flat=True).first(),)
    stats = Runner.objects.settled_starters().aggregate(
        count=Count("pk"), runner=Max("updated_at"), race=Max("race__updated_at")
    )
    return (stats["count"], stats["runner"], stats["race"])


def _versions_for_day(day: datetime.date) -> QuerySet[ModelVersion]:
    """The versions a race on `day` may get, the one it gets first for each algorithm: the
    active version if it never saw the day, else the latest ready version trained before it
    (walk-forward)."""
    return ModelVersion.objects.usable_on(day).order_by("-is_active", "-train_until", "-pk")


def model_version_for_day(*, algorithm: str, day: datetime.date) -> ModelVersion | None:
    """The version whose predictions a race on `day` gets (`_versions_for_day`)."""
    return _versions_for_day(day).filter(algorithm=algorithm).first()


def model_version_error(*, version_id: int) -> str:
    """Why the version's training failed, without loading the rest of it."""
    errors = ModelVersion.objects.filter(pk=version_id).values_list("error", flat=True)
    return errors.first() or ""


def declared_race_ids(*, day: datetime.date | None = None) -> list[int]:
    """Races still to run: on `day`, or from today on."""
    if day is None:
        races = Race.objects.upcoming()
    else:
        races = Race.objects.filter(status=Race.Status.DECLARED, meeting_date=day)
    return list(races.values_list("pk", flat=True))


def last_settled_day() -> datetime.date | None:
    """The latest race day before today with a result: what a retrain may learn up to."""
    return (
        Race.objects.results()
        .filter(meeting_date__lt=timezone.localdate())
        .order_by("-meeting_date")
        .values_list("meeting_date", flat=True)
        .first()
    )


def card_versions(*, day: datetime.date) -> dict[str, ModelVersion]:
    """For each algorithm, the version whose predictions a race on `day` shows (the rule of
    `model_version_for_day`), in one query that reads what a card names, not the metrics.

    The database picks the first of each algorithm (a window ranks them), so at most one row
    per algorithm comes back however many versions and evaluations there are.
    """
    first = Window(
        RowNumber(),
        partition_by=[F("algorithm")],
        order_by=[F("is_active").desc(), F("train_until").desc(), F("pk").desc()],
    )
    versions = (
        ModelVersion.objects.usable_on(day)
        .only("pk", "algorithm", "train_until", "is_active", "value_margin")
        .annotate(place=first)
        .filter(place=1)
        .order_by()
    )
    return {version.algorithm: version for version in versions}


def card_version_shown(
    *, versions: dict[str, ModelVersion], wanted: str | None = None
) -> ModelVersion | None:
    """Of a day's `card_versions`, the one a race card shows: the algorithm asked for if the day
    has a version of it, else the first of `ModelVersion.CARD_PREFERENCE` the day has."""
    if wanted in versions:
        return versions[wanted]
    preferred = ModelVersion.CARD_PREFERENCE
    return next((versions[name] for name in preferred if name in versions), None)


def card_predictions(
    *, race_ids: Iterable[int], versions: Iterable[ModelVersion]
) -> QuerySet[Prediction]:
    """The stored predictions of these versions for the races' runners, in one query."""
    return Prediction.objects.filter(
        runner__race_id__in=list(race_ids), model_version__in=list(versions)
    )


@dataclass
class CardRow:
    """One line of a race card: the runner, the chosen model's prediction, the horse's past."""

    runner: Runner
    prediction: Prediction | None
    history: CardHistory

    @property
    def form(self) -> str:
        """Our figures from the runs HRP holds, else the provider's racecard's own ("-": none)."""
        if self.history.runs:
            return self.history.figures
        return self.runner.declared_form or "-"

    @property
    def days_since_last_run(self) -> int | None:
        if self.history.runs:
            return self.history.days_since_last_run
        return self.runner.declared_days_since_run

    @property
    def first_time_gear(self) -> bool:
        return self.history.first_time_gear(self.runner.gear)


def race_card_rows(*, race: Race, version: ModelVersion | None) -> list[CardRow]:
    """The card's runners (prefetched by `race_card`) with the version's predictions and the
    horses' form, last runs and winner marks before the race's day: two queries. Non-runners get
    no prediction."""
    runners = list(race.runners.all())
    predictions = {}
    if version is not None:
        predictions = {
            p.runner_id: p for p in card_predictions(race_ids=[race.pk], versions=[version])
        }
        for prediction in predictions.values():
            prediction.model_version = version  # for `is_value`, without a query per row
    histories = card_histories(
        horse_ids=[r.horse_id for r in runners],
        before=race.meeting_date,
        racecourse_id=race.racecourse_id,
        distance_m=race.distance_m,
    )
    return [
        CardRow(
            runner=runner,
            prediction=None if runner.non_runner else predictions.get(runner.pk),
            history=histories[runner.horse_id],
        )
        for runner in runners
    ]


def race_card_place_terms(*, race: Race) -> PlaceTerms:
    """The race's place terms for its starters (its runners prefetched: no query)."""
    starters = sum(1 for runner in race.runners.all() if not runner.non_runner)
    return race_place_terms(race=race, field_size=starters)


def race_result_summary(rows: list[CardRow]) -> dict[str, Any] | None:
    """For a settled card: our top pick's and the favourite's rows and the winners' rows
    (dead heats give several), from rows already read. None when nothing finished first."""
    starters = [row for row in rows if not row.runner.non_runner]
    winners = [row for row in starters if row.runner.finish_position == 1]
    if not winners:
        return None
    top_pick = next((row for row in starters if row.prediction and row.prediction.rank == 1), None)
    priced = [row for row in starters if row.runner.win_odds is not None]
    favourite = min(
        priced, key=lambda row: (row.runner.win_odds, row.runner.saddle_number), default=None
    )
    return {"top_pick": top_pick, "favourite": favourite, "winners": winners}


def card_predictions_attach(*, race: Race) -> None:
    """Give each runner of `race` (its runners prefetched) the predictions of the versions the
    race's day shows, as `card_predictions`: for a past race the versions trained before its day
    (walk-forward), never a later one; and what the card shows of it (`card_details_attach`).
    Three queries."""
    _card_predictions_attach(races=[race], day=race.meeting_date)
    card_details_attach(races=[race])


def card_details_attach(*, races: list[Race]) -> None:
    """Give each runner of a day's `races` (runners prefetched, with their horses) what its race
    card shows beside the predictions, as `card` (a `CardRow` without a prediction: form, days
    since its last run, first-time headgear, C/D marks), and each race its `card_place_terms`.
    One query however many races."""
    histories = race_day_histories(races=races)
    for race in races:
        race.card_place_terms = race_card_place_terms(race=race)
        for runner in race.runners.all():
            runner.card = CardRow(
                runner=runner, prediction=None, history=histories[race.pk, runner.horse_id]
            )


def _card_predictions_attach(*, races: list[Race], day: datetime.date) -> None:
    """`card_predictions_attach` for races of one day: two queries however many races."""
    versions = card_versions(day=day)
    by_pk = {version.pk: version for version in versions.values()}
    by_runner: dict[int, list] = {}
    # The API gives no explanations: their JSON stays in the database.
    predictions = card_predictions(race_ids=[race.pk for race in races], versions=versions.values())
    for prediction in predictions.defer("explanation").order_by("model_version"):
        prediction.model_version = by_pk[prediction.model_version_id]
        by_runner.setdefault(prediction.runner_id, []).append(prediction)
    shown = card_version_shown(versions=versions)
    for race in races:
        race.shown_version = shown
        for runner in race.runners.all():
            runner.card_predictions = by_runner.get(runner.pk, [])


def racecards(*, race_ids: list[int], day: datetime.date) -> list[Race]:
    """The day's races `race_ids` with their course, field size and runners, each runner with the
    predictions of the versions the day shows and what its card shows (`card_predictions_attach`):
    five queries however many races and runners."""
    races = list(
        Race.objects.filter(pk__in=race_ids, meeting_date=day)
        .with_card()
        .with_field_size()
        .order_by("racecourse__name", "race_number", "pk")
    )
    if races:
        _card_predictions_attach(races=races, day=day)
        card_details_attach(races=races)
    return races


def model_performance(*, window: str | None = None) -> dict:
    """What the stored held-out evaluations say, per algorithm, in one query.

    Returns "algorithms": for each algorithm with an active version or an evaluation, in the
    choices' order, its active version (or None) and its evaluation rows (`_evaluation_rows`,
    latest window first); "windows": every evaluated window, latest first; "window": the chosen
    one (`window` if it was evaluated, else the latest); "chosen": the evaluation of each
    algorithm on that window (by its newest version), as [label, metrics] pairs.
    """
    versions = list(
        ModelVersion.objects.only(
            "pk", "algorithm", "train_until", "is_active", "status", "finished_at", "metrics"
        ).order_by("-pk")
    )
    rows = _evaluation_rows(versions)
    labels = dict(ModelVersion.Algorithm.choices)
    active = {v.algorithm: v for v in versions if v.is_active}
    windows = []
    for row in rows:
        if row["window"] not in windows:
            windows.append(row["window"])
    if window not in windows:
        window = windows[0] if windows else None
    algorithms = []
    chosen = []
    for name, label in labels.items():
        own = [row for row in rows if row["algorithm"] == name]
        if own or name in active:
            algorithms.append(
                {"algorithm": name, "label": label, "active": active.get(name), "evaluations": own}
            )
        on_window = [row for row in own if row["window"] == window]
        if on_window:
            chosen.append([label, on_window[0]["metrics"]])
    return {"algorithms": algorithms, "windows": windows, "window": window, "chosen": chosen}


def public_track_record() -> dict:
    """The landing page's track record: each algorithm's latest held-out evaluation, as
    `_evaluation_rows` rows under "rows", and whether any of them scored synthetic demo races
    ("demo")."""
    versions = ModelVersion.objects.only("pk", "algorithm", "train_until", "metrics").order_by(
        "-pk"
    )
    latest = {}
    for row in _evaluation_rows(list(versions)):
        latest.setdefault(row["algorithm"], row)
    order = list(ModelVersion.Algorithm.values)
    rows = sorted(latest.values(), key=lambda row: order.index(row["algorithm"]))
    for row in rows:
        if "sources" not in row["metrics"]:  # stored before evaluations recorded their sources
            demo = Race.objects.filter(source=Race.Source.DEMO)
            row["demo"] = demo.filter(
                meeting_date__range=(row["date_from"], row["date_to"])
            ).exists()
    return {"rows": rows, "demo": any(row["demo"] for row in rows)}


def _evaluation_rows(versions: list[ModelVersion]) -> list[dict]:
    """The walk-forward evaluations stored on the versions (window strictly after the training
    window), flattened for tables: latest window first, then the newest version."""
    labels = dict(ModelVersion.Algorithm.choices)
    rows = []
    for version in versions:
        evaluations = (version.metrics or {}).get("evaluations", {})
        for window, metrics in evaluations.items():
            if metrics.get("from", "") <= version.train_until.isoformat():
                continue
            returns = metrics.get("returns", {})
            top_pick, value = returns.get("top_pick", {}), returns.get("value", {})
            log_loss, market = metrics.get("log_loss"), metrics.get("market_log_loss")
            rows.append(
                {
                    "algorithm": version.algorithm,
                    "label": labels.get(version.algorithm, version.algorithm),
                    "version": version.pk,
                    "train_until": version.train_until,
                    "window": window,
                    "date_from": datetime.date.fromisoformat(metrics["from"]),
                    "date_to": datetime.date.fromisoformat(metrics["to"]),
                    "races": metrics.get("races"),
                    "log_loss": log_loss,
                    "market_log_loss": market,
                    "pseudo_r2": metrics.get("pseudo_r2"),
                    "market_pseudo_r2": metrics.get("market_pseudo_r2"),
                    "delta_r2_vs_market": metrics.get("delta_r2_vs_market"),
                    "delta_r2_vs_market_ci": metrics.get("delta_r2_vs_market_ci"),
                    "top1_accuracy": metrics.get("top1_accuracy"),
                    "favourite_top1_accuracy": metrics.get("favourite_top1_accuracy"),
                    "top_pick_roi": top_pick.get("roi"),
                    "value_roi": value.get("roi"),
                    "value_bets": value.get("bets"),
                    "verdict": _verdict(
                        log_loss, market, metrics.get("delta_log_loss_vs_market_ci")
                    ),
                    "demo": Race.Source.DEMO in metrics.get("sources", []),
                    "metrics": metrics,
                }
            )
    rows.sort(key=lambda row: (row["date_to"], row["date_from"], row["version"]), reverse=True)
    return rows


def _verdict(
    log_loss: float | None,
    market_log_loss: float | None,
    interval: list[float] | None = None,
) -> str:
    """ "beats", "trails" or "level with" the market; "" when the races had no prices.

    With the bootstrap interval of the log-loss difference (`evaluation.evaluate`), the model
    beats or trails the market only when the interval excludes zero, and is level with it
    otherwise: a lower log loss that the luck of the draw could explain is no win. Evaluations
    stored before the interval existed compare the two figures (level when they agree to the
    four places pages show).
    """
    if log_loss is None or market_log_loss is None:
        return ""
    if interval is not None:
        # Float round-off (the market model against itself differs by ~1e-17) is no difference.
        low, high = interval
        return "beats" if high < -1e-9 else "trails" if low > 1e-9 else "level with"
    if abs(log_loss - market_log_loss) < 0.00005:
        return "level with"
    return "beats" if log_loss < market_log_loss else "trails"


@dataclass
class RaceResult:
    """One race of a day's results: its placings and how the chosen model's top pick did."""

    race: Race
    finishers: list[Runner]  # in finishing order
    non_finishers: list[Runner]  # started, no position
    non_runners: list[Runner]
    top_pick: Runner | None
    top_pick_probability: float | None

    @property
    def winners(self) -> list[Runner]:
        return [runner for runner in self.finishers if runner.finish_position == 1]

    @property
    def settled(self) -> bool:
        return self.race.status == Race.Status.RESULT

    @property
    def top_pick_won(self) -> bool:
        return self.top_pick is not None and self.top_pick.finish_position == 1


def day_results(*, day: datetime.date, version: ModelVersion | None) -> list[RaceResult]:
    """Every race of `day` in running order with its placings, and the top pick (rank 1) of
    `version` with its win probability. Three queries (two without a version) however many
    races."""
    races = list(race_day_results(day=day))
    picks: dict[int, tuple[int, float]] = {}
    if version is not None and races:
        top = Prediction.objects.filter(
            runner__race_id__in=[race.pk for race in races], model_version=version, rank=1
        ).values_list("runner__race_id", "runner_id", "win_probability")
        picks = {race_id: (runner_id, p) for race_id, runner_id, p in top}
    results = []
    for race in races:
        runners = list(race.runners.all())
        pick_id, probability = picks.get(race.pk, (None, None))
        results.append(
            RaceResult(
                race=race,
                finishers=[r for r in runners if r.finish_position is not None],
                non_finishers=[
                    r for r in runners if r.finish_position is None and not r.non_runner
                ],
                non_runners=[r for r in runners if r.non_runner],
                top_pick=next((r for r in runners if r.pk == pick_id), None),
                top_pick_probability=probability,
            )
        )
    return results
