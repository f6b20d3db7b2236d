from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

# The longest provider id a row keeps; a longer one is shortened with a digest on import.
EXTERNAL_ID_LENGTH = 64


class ExternalRecord(models.Model):
    """Where a row came from: the data provider and the provider's own id for it.

    Re-imports and syncs find their rows again through (source, external_id), so running an import
    twice never duplicates anything. Rows typed in by staff have no external id.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by staff"
        HKRACING = "hkracing", "Hong Kong results (CSV)"
        THERACINGAPI = "theracingapi", "The Racing API"
        BETFAIR = "betfair", "Betfair"
        DEMO = "demo", "Demo data (synthetic)"

    source = models.CharField(max_length=32, choices=Source.choices, default=Source.MANUAL)
    external_id = models.CharField(max_length=EXTERNAL_ID_LENGTH, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]

    @property
    def is_demo(self) -> bool:
        return self.source == self.Source.DEMO


class Racecourse(ExternalRecord):
    """A track where meetings are held, e.g. Sha Tin (ST) in Hong Kong."""

    class PlaceTerms(models.TextChoices):
        """How many places pay, by field size (races.place_terms holds the rules)."""

        BRITISH = "british", "British and Irish each-way terms"
        HONG_KONG = "hong_kong", "Hong Kong place pool"

    code = models.CharField(max_length=8)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    place_terms = models.CharField(
        max_length=16,
        choices=PlaceTerms.choices,
        blank=True,
        help_text="Blank: the terms of the course's data provider (races.place_terms).",
    )

    class Meta(ExternalRecord.Meta):
        ordering = ["name"]
        constraints = [
            *ExternalRecord.Meta.constraints,
            models.UniqueConstraint(fields=["country", "code"], name="racecourse_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(ExternalRecord):
    """What horses, jockeys and trainers share: a display name and a provider identity."""

    name = models.CharField(max_length=100, blank=True)

    class Meta(ExternalRecord.Meta):
        abstract = True
        ordering = ["name", "external_id"]

    def __str__(self) -> str:
        # Some providers (the Hong Kong results) publish ids only; the primary key is never shown.
        kind = self._meta.verbose_name
        if self.name:
            return self.name
        return f"{kind.title()} #{self.external_id}" if self.external_id else f"Unnamed {kind}"

    def get_absolute_url(self) -> str:
        return reverse(f"races:{self._meta.model_name}", args=[self.pk])


class Horse(Participant):
    """A horse. Age and ratings change from race to race, so they live on its runs."""

    class Sex(models.TextChoices):
        COLT = "colt", "Colt"
        FILLY = "filly", "Filly"
        GELDING = "gelding", "Gelding"
        MARE = "mare", "Mare"
        HORSE = "horse", "Horse (entire)"
        RIG = "rig", "Rig"

    country = models.CharField(max_length=3, blank=True, help_text="Country of breeding.")
    sex = models.CharField(
        max_length=16,
        choices=Sex.choices,
        blank=True,
        help_text="Blank when the provider gave none or a word that is not a sex.",
    )

    class Meta(Participant.Meta):
        indexes = [models.Index(fields=["name"], name="horse_name_idx")]


class Jockey(Participant):
    """A rider."""

    class Meta(Participant.Meta):
        indexes = [models.Index(fields=["name"], name="jockey_name_idx")]


class Trainer(Participant):
    """A trainer, whose yard prepares the horses."""

    class Meta(Participant.Meta):
        indexes = [models.Index(fields=["name"], name="trainer_name_idx")]


def _upcoming(*, today: datetime.date | None, race: str = "") -> Q:
    """Races still to run: declared, on `today` (default: the local date) or later. `race` is
    the lookup path to the race ("race__" from a runner)."""
    return Q(
        **{
            f"{race}status": Race.Status.DECLARED,
            f"{race}meeting_date__gte": today or timezone.localdate(),
        }
    )


def _field_size(race: OuterRef) -> Coalesce:
    """The starters of the race `race` refers to. A correlated count rather than a join and
    GROUP BY, so that counting, filtering and paging the annotated rows does not group every
    runner in the table."""
    starters = (
        Runner.objects.starters()
        .filter(race=race)
        .order_by()
        .values("race")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(starters), 0)


class RaceQuerySet(models.QuerySet):
    def on_date(self, day: datetime.date) -> RaceQuerySet:
        return self.filter(meeting_date=day)

    def upcoming(self, *, today: datetime.date | None = None) -> RaceQuerySet:
        return self.filter(_upcoming(today=today)).order_by(
            "meeting_date", "racecourse__name", "race_number"
        )

    def results(self) -> RaceQuerySet:
        return self.filter(status=Race.Status.RESULT)

    def in_running_order(self) -> RaceQuerySet:
        """By off time across courses (races without one last), then course and race number."""
        return self.order_by(
            models.F("post_time").asc(nulls_last=True), "racecourse__name", "race_number", "pk"
        )

    def with_field_size(self) -> RaceQuerySet:
        return self.annotate(field_size=_field_size(OuterRef("pk")))

    def with_result(self) -> RaceQuerySet:
        """Everything a result shows, in a fixed number of queries: the runners in finishing
        order, non-runners and those without a position last."""
        runners = Runner.objects.select_related("horse", "jockey", "trainer").order_by(
            models.F("finish_position").asc(nulls_last=True), "non_runner", "saddle_number"
        )
        return self.select_related("racecourse").prefetch_related(
            Prefetch("runners", queryset=runners)
        )

    def with_card(self) -> RaceQuerySet:
        """Everything a race card shows, in a fixed number of queries."""
        runners = Runner.objects.select_related("horse", "jockey", "trainer").order_by(
            "saddle_number"
        )
        return self.select_related("racecourse").prefetch_related(
            Prefetch("runners", queryset=runners)
        )


class Race(ExternalRecord):
    """One race at a meeting: conditions before the off, and the result once it is run."""

    class Surface(models.TextChoices):
        TURF = "turf", "Turf"
        ALL_WEATHER = "all_weather", "All-weather"
        DIRT = "dirt", "Dirt"

    class Status(models.TextChoices):
        DECLARED = "declared", "Declared"
        RESULT = "result", "Result"
        ABANDONED = "abandoned", "Abandoned"

    class Going(models.TextChoices):
        """The ground, in the words of British, Irish, Hong Kong and North American racing
        (races.vocabulary maps the providers' spellings to these)."""

        HARD = "hard", "Hard"
        FIRM = "firm", "Firm"
        GOOD_TO_FIRM = "good to firm", "Good to Firm"
        GOOD = "good", "Good"
        GOOD_TO_YIELDING = "good to yielding", "Good to Yielding"
        YIELDING = "yielding", "Yielding"
        YIELDING_TO_SOFT = "yielding to soft", "Yielding to Soft"
        GOOD_TO_SOFT = "good to soft", "Good to Soft"
        SOFT = "soft", "Soft"
        SOFT_TO_HEAVY = "soft to heavy", "Soft to Heavy"
        HEAVY = "heavy", "Heavy"
        # all-weather and dirt
        FAST = "fast", "Fast"
        STANDARD_TO_FAST = "standard to fast", "Standard to Fast"
        STANDARD = "standard", "Standard"
        STANDARD_TO_SLOW = "standard to slow", "Standard to Slow"
        SLOW = "slow", "Slow"
        WET_FAST = "wet fast", "Wet Fast"
        WET_SLOW = "wet slow", "Wet Slow"
        MUDDY = "muddy", "Muddy"
        SLOPPY = "sloppy", "Sloppy"

    racecourse = models.ForeignKey(Racecourse, on_delete=models.PROTECT, related_name="races")
    meeting_date = models.DateField()
    race_number = models.PositiveSmallIntegerField(validators=[MaxValueValidator(99)])
    post_time = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    distance_m = models.PositiveIntegerField("distance (m)", validators=[MaxValueValidator(10_000)])
    surface = models.CharField(max_length=16, choices=Surface.choices, default=Surface.TURF)
    going = models.CharField(max_length=32, choices=Going.choices, blank=True)
    race_class = models.CharField("class", max_length=16, blank=True)
    rating_band = models.CharField(max_length=16, blank=True)
    prize = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    prize_currency = models.CharField(max_length=3, blank=True)
    rail = models.CharField(
        max_length=16, blank=True, help_text="Rail position or track configuration."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DECLARED)
    sectional_times = models.JSONField(
        default=list, blank=True, help_text="The leader's time for each section, in seconds."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RaceQuerySet.as_manager()

    class Meta(ExternalRecord.Meta):
        ordering = ["-meeting_date", "racecourse__name", "race_number"]
        constraints = [
            *ExternalRecord.Meta.constraints,
            models.UniqueConstraint(
                fields=["racecourse", "meeting_date", "race_number"], name="race_unique_slot"
            ),
            models.CheckConstraint(condition=Q(race_number__gte=1), name="race_number_positive"),
            models.CheckConstraint(condition=Q(distance_m__gt=0), name="race_distance_positive"),
            models.CheckConstraint(
                condition=Q(prize__isnull=True) | Q(prize__gte=0), name="race_prize_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["meeting_date", "racecourse"], name="race_day_idx"),
            models.Index(fields=["status", "meeting_date"], name="race_status_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_date:%Y-%m-%d} {self.racecourse.code} R{self.race_number}"

    def get_absolute_url(self) -> str:
        # The race card shows predictions, so the predictions app composes it; races knows only
        # the page's name.
        return reverse("predictions:race", args=[self.pk])

    @property
    def is_handicap(self) -> bool:
        # No provider flags handicaps; British and Irish race names say so ("... Handicap Hurdle").
        return "handicap" in self.name.lower()


class RunnerQuerySet(models.QuerySet):
    def starters(self) -> RunnerQuerySet:
        return self.filter(non_runner=False)

    def settled_starters(self) -> RunnerQuerySet:
        """Starters in races with a result: the runs that count for form, strike rates and
        training."""
        return self.starters().filter(race__status=Race.Status.RESULT)

    def upcoming(self, *, today: datetime.date | None = None) -> RunnerQuerySet:
        """Runners in races still to run (see `RaceQuerySet.upcoming`)."""
        return self.filter(_upcoming(today=today, race="race__"))

    def with_field_size(self) -> RunnerQuerySet:
        """Each runner with the number of starters in its race (`field_size`)."""
        return self.annotate(field_size=_field_size(OuterRef("race_id")))

    def form(self) -> RunnerQuerySet:
        """A horse's, jockey's or trainer's runs, newest first, with what a form table shows."""
        return self.select_related("race__racecourse", "horse", "jockey", "trainer").order_by(
            "-race__meeting_date", "-race__race_number"
        )


class Runner(ExternalRecord):
    """A horse's entry in a race, with its declaration, the market and, afterwards, the result.

    A win price must be above 1 for it to imply a probability below 1. Place dividends of exactly 1
    (the stake back) are common in Hong Kong, so place odds may equal 1.
    """

    class NonFinish(models.TextChoices):
        """Why a starter did not finish, as a provider says; the value is its form figure."""

        FELL = "F", "Fell"
        PULLED_UP = "P", "Pulled up"
        UNSEATED = "U", "Unseated rider"
        REFUSED = "R", "Refused"
        BROUGHT_DOWN = "B", "Brought down"
        SLIPPED_UP = "S", "Slipped up"
        RAN_OUT = "O", "Ran out"
        CARRIED_OUT = "C", "Carried out"
        DISQUALIFIED = "D", "Disqualified"

    race = models.ForeignKey(Race, on_delete=models.CASCADE, related_name="runners")
    horse = models.ForeignKey(Horse, on_delete=models.PROTECT, related_name="runs")
    jockey = models.ForeignKey(
        Jockey, on_delete=models.PROTECT, related_name="rides", null=True, blank=True
    )
    trainer = models.ForeignKey(
        Trainer, on_delete=models.PROTECT, related_name="runners", null=True, blank=True
    )
    saddle_number = models.PositiveSmallIntegerField()
    draw = models.PositiveSmallIntegerField(null=True, blank=True)
    # The validators bound what a person types (admin, API); imports keep what the source says.
    carried_weight_lb = models.PositiveSmallIntegerField(
        "carried weight (lb)", null=True, blank=True, validators=[MaxValueValidator(999)]
    )
    declared_weight_lb = models.DecimalField(
        "body weight (lb)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    rating = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(-999), MaxValueValidator(999)]
    )
    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(40)]
    )
    gear = models.CharField(
        max_length=32, blank=True, help_text="Headgear, as the provider codes it."
    )
    declared_form = models.CharField(
        max_length=32,
        blank=True,
        help_text="Form figures as the provider's racecard prints them (for horses whose earlier "
        "runs HRP does not hold).",
    )
    declared_days_since_run = models.PositiveSmallIntegerField(
        "days since the last run (provider)",
        null=True,
        blank=True,
        help_text="As the provider's racecard gives it.",
    )
    jockey_allowance_lb = models.PositiveSmallIntegerField(
        "jockey's allowance (lb)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
        help_text="What a claiming rider takes off the weight, where the provider gives it.",
    )
    win_odds = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    place_odds = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    finish_position = models.PositiveSmallIntegerField(null=True, blank=True)
    dead_heat = models.BooleanField(default=False)
    non_finish = models.CharField(
        max_length=1,
        choices=NonFinish.choices,
        blank=True,
        help_text="Why the runner did not finish, where the provider says; blank otherwise.",
    )
    lengths_behind = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    finish_time = models.DecimalField(
        "finish time (s)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    section_positions = models.JSONField(default=list, blank=True)
    section_lengths_behind = models.JSONField(default=list, blank=True)
    section_times = models.JSONField(default=list, blank=True, help_text="Seconds per section.")
    non_runner = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RunnerQuerySet.as_manager()

    class Meta(ExternalRecord.Meta):
        ordering = ["race", "saddle_number"]
        constraints = [
            *ExternalRecord.Meta.constraints,
            models.UniqueConstraint(fields=["race", "horse"], name="runner_unique_horse"),
            models.UniqueConstraint(fields=["race", "saddle_number"], name="runner_unique_saddle"),
            models.CheckConstraint(
                condition=Q(saddle_number__gte=1), name="runner_saddle_positive"
            ),
            models.CheckConstraint(
                condition=Q(draw__isnull=True) | Q(draw__gte=1), name="runner_draw_positive"
            ),
            models.CheckConstraint(
                condition=Q(finish_position__isnull=True) | Q(finish_position__gte=1),
                name="runner_position_positive",
            ),
            models.CheckConstraint(
                condition=Q(win_odds__isnull=True) | Q(win_odds__gt=1),
                name="runner_win_odds_above_one",
            ),
            models.CheckConstraint(
                condition=Q(place_odds__isnull=True) | Q(place_odds__gte=1),
                name="runner_place_odds_at_least_one",
            ),
            models.CheckConstraint(
                condition=Q(non_runner=False) | Q(finish_position__isnull=True),
                name="runner_non_runner_has_no_position",
            ),
            models.CheckConstraint(
                condition=Q(dead_heat=False) | Q(finish_position__isnull=False),
                name="runner_dead_heat_has_position",
            ),
            models.CheckConstraint(
                condition=Q(non_finish="") | Q(finish_position__isnull=True, non_runner=False),
                name="runner_non_finisher_has_no_position",
            ),
        ]
        indexes = [
            models.Index(fields=["race", "finish_position"], name="runner_result_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.saddle_number}. {self.horse} ({self.race})"

    @property
    def implied_probability(self) -> float | None:
        """The market's raw probability, before removing the bookmaker's or pool's margin."""
        return 1 / float(self.win_odds) if self.win_odds else None


class ProviderSync(models.Model):
    """One run of a provider sync: when, how it ended, what it changed, and why it failed.

    A sync asked for by staff is written "queued" before its task is sent, so whoever polls sees
    it at once; every attempt that fails for good leaves it "failed" with the error.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=32)
    day = models.DateField(help_text="The racing day synced.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(
        default=dict,
        blank=True,
        help_text="Races and runners created, updated and unchanged; non-runners marked.",
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["provider", "-started_at"], name="provider_sync_last_idx")]

    def __str__(self) -> str:
        return f"{self.provider} {self.day:%Y-%m-%d} ({self.status})"


class HkracingUpload(models.Model):
    """A staff upload of the Hong Kong results pair, imported by a worker.

    Both files are stored here, in the database, because the worker runs on another machine than
    the web process that received them (App Platform gives each component its own disk).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    races_name = models.CharField(max_length=255)
    races_data = models.BinaryField()
    runs_name = models.CharField(max_length=255)
    runs_data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    summary = models.JSONField(
        default=list, blank=True, help_text="What the import created, updated and left unchanged."
    )
    errors = models.JSONField(
        default=list, blank=True, help_text="Why the files were rejected, by file and line."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.races_name} + {self.runs_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Operation(models.Model):
    """Background work staff asked the API for (a retrain, a training sent again, a refresh of
    predictions, a provider sync), followed from queued through running to done or failed, so
    the client that asked can poll it to its end.

    It lives here, in the app every other builds on, so that the tasks of races and predictions
    alike can record how it went.
    """

    class Kind(models.TextChoices):
        MODEL_RETRAIN = "model_retrain", "Retrain a model"
        MODEL_TRAIN = "model_train", "Train a model version again"
        PREDICTIONS_REFRESH = "predictions_refresh", "Refresh predictions"
        PROVIDER_SYNC = "provider_sync", "Sync a provider"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = models.JSONField(default=dict, blank=True, help_text="What was asked for.")
    outcome = models.JSONField(
        default=dict, blank=True, help_text="What the work reported when it ended."
    )
    error = models.TextField(blank=True, help_text="Why it failed.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="operation_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
