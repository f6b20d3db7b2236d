from rest_framework import serializers

from hrp_site.api import StrictSerializer
from hrp_site.filters import ID_SCHEMA, NO_NUL
from predictions.models import ModelVersion, Prediction
from races.api.serializers import RaceHeaderMixin, RaceSerializer, RunnerSerializer
from races.models import Horse, Race, Racecourse


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "algorithm",
            "status",
            "progress",
            "error",
            "is_active",
            "train_from",
            "train_until",
            "seed",
            "hyperparameters",
            "features",
            "library_versions",
            "metrics",
            "created_at",
            "started_at",
            "finished_at",
            "notes",
        ]
        read_only_fields = fields


class ModelVersionNotesSerializer(StrictSerializer):
    """What staff may change on a model version: its notes. The rest is set when it is created
    or by its training; any other field sent is refused, by name."""

    notes = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def to_internal_value(self, data):
        others = sorted(set(data) - set(self.fields)) if hasattr(data, "keys") else []
        if others:
            raise serializers.ValidationError(
                {
                    name: [f"{name} cannot be changed on a model version; only notes can."]
                    for name in others
                }
            )
        return super().to_internal_value(data)


class PredictionSerializer(serializers.ModelSerializer):
    race = serializers.IntegerField(source="runner.race_id", read_only=True)
    meeting_date = serializers.DateField(source="runner.race.meeting_date", read_only=True)
    saddle_number = serializers.IntegerField(source="runner.saddle_number", read_only=True)
    horse_name = serializers.CharField(source="runner.horse.name", read_only=True)
    algorithm = serializers.CharField(source="model_version.algorithm", read_only=True)

    class Meta:
        model = Prediction
        fields = [
            "id",
            "runner",
            "race",
            "meeting_date",
            "saddle_number",
            "horse_name",
            "model_version",
            "algorithm",
            "win_probability",
            "place_probability",
            "rank",
            "fair_odds",
            "edge",
            "explanation",
            "updated_at",
        ]


class ModelVersionRetrainInputSerializer(StrictSerializer):
    activate = serializers.BooleanField(
        default=False, help_text="Make the new version active once it is trained."
    )


class PredictionsRefreshInputSerializer(StrictSerializer):
    race_ids = serializers.ListField(
        child=serializers.IntegerField(
            min_value=ID_SCHEMA["minimum"], max_value=ID_SCHEMA["maximum"]
        ),
        required=False,
        min_length=1,
        max_length=500,
    )
    date = serializers.DateField(required=False, help_text="Refresh every race of this day.")

    def validate_race_ids(self, value: list[int]) -> list[int]:
        known = set(Race.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = sorted(set(value) - known)
        if missing:
            raise serializers.ValidationError(f"No race with id {', '.join(map(str, missing))}.")
        return value

    def validate(self, attrs):
        if ("race_ids" in attrs) == ("date" in attrs):
            raise serializers.ValidationError("Give either race_ids or date, not both or neither.")
        return attrs


# The refresh's body as its schema: either race_ids or date (a oneOf of which is present).
# ModelVersionNotesSerializer as the schema gives it: notes, and nothing else (PUT requires it).
MODEL_VERSION_NOTES_REQUEST = {
    "type": "object",
    "properties": {"notes": {"type": "string", "pattern": NO_NUL}},
    "additionalProperties": False,
}

PREDICTIONS_REFRESH_REQUEST = {
    "type": "object",
    "properties": {
        "race_ids": {
            "type": "array",
            "items": ID_SCHEMA,
            "minItems": 1,
            "maxItems": 500,
            "description": "Refresh these races; each must exist.",
        },
        "date": {
            "type": "string",
            "format": "date",
            "description": "Refresh every race of this day.",
        },
    },
    "oneOf": [{"required": ["race_ids"]}, {"required": ["date"]}],
}


# --- the race API's detail, with each runner's predictions ------------------------------------


class RacePredictionSerializer(serializers.Serializer):
    """A runner's prediction by the model version its race's day shows: the active one, or for a
    race the active one was trained on, the latest version trained before the race's day."""

    model_version = serializers.IntegerField(source="model_version_id")
    algorithm = serializers.CharField(source="model_version.algorithm")
    win_probability = serializers.FloatField()
    place_probability = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField()
    fair_odds = serializers.FloatField()
    edge = serializers.FloatField(allow_null=True)


class CardFormRunSerializer(serializers.Serializer):
    """One of the runs behind a runner's form figures: where it finished out of how many."""

    meeting_date = serializers.DateField()
    figure = serializers.CharField(help_text="The run's character in the form figures.")
    position = serializers.IntegerField(
        allow_null=True, help_text="Null when the horse did not finish."
    )
    field_size = serializers.IntegerField(help_text="The race's starters.")


class RaceRunnerSerializer(RunnerSerializer):
    """A runner as its race card shows it, as The Racing API's racecards give a runner (age, sex,
    headgear, the jockey's claim, form, days since the last run), with the horse's C/D marks and
    the predictions of the versions the race's day shows."""

    sex = serializers.ChoiceField(
        source="horse.sex",
        choices=Horse.Sex.choices,
        allow_blank=True,
        read_only=True,
        help_text="The horse's sex; blank when the provider gave none.",
    )
    headgear_first_time = serializers.BooleanField(
        source="card.first_time_gear",
        read_only=True,
        help_text="Whether the headgear (`gear`) is new since the horse's previous run.",
    )
    jockey_allowance_lb = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="What a claiming rider takes off the weight (lb); null when none is given.",
    )
    form = serializers.CharField(
        source="card.form",
        read_only=True,
        help_text="Form figures in the racing convention, oldest first: one character per run "
        "(1-9, 0 for tenth or worse, P, F, U, R, ... for a runner that did not finish), '-' "
        "between seasons; from the runs HRP holds, else the provider's racecard; '-' for none.",
    )
    form_runs = CardFormRunSerializer(
        source="card.history.runs",
        many=True,
        read_only=True,
        help_text="The runs HRP holds behind `form`, oldest first, each as its position out of "
        "the field (3/14); empty when the figures are the provider's.",
    )
    days_since_last_run = serializers.IntegerField(
        source="card.days_since_last_run",
        read_only=True,
        allow_null=True,
        help_text="Days from the horse's last run to the race's day; null when unknown.",
    )
    winner_marks = serializers.CharField(
        source="card.history.winner_marks",
        read_only=True,
        help_text='"CD" for a course-and-distance winner, else "C" (course), "D" (distance), '
        '"C D" or "" (none), from wins before the race\'s day.',
    )
    predictions = RacePredictionSerializer(
        source="card_predictions",
        many=True,
        read_only=True,
        help_text="One per algorithm that has a version usable on the race's day.",
    )

    class Meta(RunnerSerializer.Meta):
        fields = [
            *RunnerSerializer.Meta.fields,
            "sex",
            "headgear_first_time",
            "jockey_allowance_lb",
            "form",
            "form_runs",
            "days_since_last_run",
            "winner_marks",
            "predictions",
        ]


class RaceDetailSerializer(RaceSerializer):
    places_paid = serializers.IntegerField(
        source="card_place_terms.places",
        read_only=True,
        help_text="How many places pay for the race's starters under its place terms; 0 when "
        "there is no place betting (4 runners or fewer under British terms).",
    )
    place_terms = serializers.ChoiceField(
        source="card_place_terms.terms",
        choices=Racecourse.PlaceTerms.choices,
        read_only=True,
        help_text="The place terms the race is run under (its course's, else its provider's).",
    )
    runners = RaceRunnerSerializer(many=True, read_only=True)

    class Meta(RaceSerializer.Meta):
        fields = [*RaceSerializer.Meta.fields, "places_paid", "place_terms", "runners"]


class RacecardSerializer(RaceHeaderMixin, RaceDetailSerializer):
    """A race on a day's racecards: its conditions, course and region, and its runners, each with
    the predictions of the versions the race's day shows (as the race's detail gives them)."""

    shown_model_version = serializers.IntegerField(
        source="shown_version.pk",
        allow_null=True,
        read_only=True,
        help_text="The version whose predictions the race card shows unless asked for another "
        "algorithm (the first the day has of benter, residual, softmax, lightgbm, xgboost, "
        "logit, market); null when the day has none.",
    )
    shown_algorithm = serializers.CharField(
        source="shown_version.algorithm", allow_null=True, read_only=True
    )

    class Meta(RaceDetailSerializer.Meta):
        fields = [
            *RaceSerializer.Meta.fields[:3],
            "racecourse_name",
            "region",
            *RaceSerializer.Meta.fields[3:],
            "field_size",
            "shown_model_version",
            "shown_algorithm",
            "places_paid",
            "place_terms",
            "runners",
        ]
        read_only_fields = fields


class RacecardsSerializer(serializers.Serializer):
    """A day's racecards, as The Racing API's `racecards` (one call, every race of the day and its
    runners), with our predictions beside each runner."""

    date = serializers.DateField()
    total = serializers.IntegerField(help_text="How many races.")
    racecards = RacecardSerializer(many=True)
