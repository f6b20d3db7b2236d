from rest_framework import serializers
from rest_framework.reverse import reverse

from hrp_site.api import ValidatedModelSerializer
from races.models import Horse, Jockey, Operation, Race, Racecourse, Runner, Trainer


class RacecourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Racecourse
        fields = ["id", "code", "name", "country", "source"]


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        fields = ["id", "name", "source", "external_id"]


class JockeySerializer(ParticipantSerializer):
    class Meta(ParticipantSerializer.Meta):
        model = Jockey


class TrainerSerializer(ParticipantSerializer):
    class Meta(ParticipantSerializer.Meta):
        model = Trainer


class FormRunSerializer(serializers.ModelSerializer):
    """One line of a horse's form: the race and how the horse ran in it."""

    meeting_date = serializers.DateField(source="race.meeting_date", read_only=True)
    racecourse = serializers.CharField(source="race.racecourse.code", read_only=True)
    race_number = serializers.IntegerField(source="race.race_number", read_only=True)
    distance_m = serializers.IntegerField(source="race.distance_m", read_only=True)
    going = serializers.CharField(source="race.going", read_only=True)
    jockey_name = serializers.CharField(source="jockey.name", read_only=True, allow_null=True)

    class Meta:
        model = Runner
        fields = [
            "id",
            "race",
            "meeting_date",
            "racecourse",
            "race_number",
            "distance_m",
            "going",
            "jockey",
            "jockey_name",
            "draw",
            "carried_weight_lb",
            "rating",
            "win_odds",
            "finish_position",
            "lengths_behind",
            "non_runner",
        ]


class HorseSerializer(serializers.ModelSerializer):
    form = FormRunSerializer(source="recent_runs", many=True, read_only=True)

    class Meta:
        model = Horse
        fields = ["id", "name", "country", "sex", "source", "external_id", "form"]


class RunnerSerializer(ValidatedModelSerializer):
    """A horse's entry in a race: the card (draw, weight, jockey, trainer, rating, odds) and, once
    the race is run, its result. Writes are checked against the runner model's rules, among them:
    a non-runner has no finishing position, and a dead heat needs one."""

    horse_name = serializers.CharField(source="horse.name", read_only=True)
    jockey_name = serializers.CharField(source="jockey.name", read_only=True, allow_null=True)
    trainer_name = serializers.CharField(source="trainer.name", read_only=True, allow_null=True)

    class Meta:
        model = Runner
        fields = [
            "id",
            "race",
            "horse",
            "horse_name",
            "jockey",
            "jockey_name",
            "trainer",
            "trainer_name",
            "saddle_number",
            "draw",
            "carried_weight_lb",
            "declared_weight_lb",
            "rating",
            "age",
            "gear",
            "win_odds",
            "place_odds",
            "finish_position",
            "dead_heat",
            "lengths_behind",
            "finish_time",
            "non_runner",
            "source",
            "updated_at",
        ]
        read_only_fields = ["source", "updated_at"]
        constraint_errors = {
            "runner_non_runner_has_no_position": (
                "finish_position",
                "A non-runner has no finishing position.",
            ),
            "runner_dead_heat_has_position": (
                "dead_heat",
                "A dead heat needs a finishing position.",
            ),
        }


class RaceSerializer(ValidatedModelSerializer):
    """One race at a meeting: its conditions and, once run, its status. Writes are checked
    against the race model's rules."""

    racecourse_code = serializers.CharField(source="racecourse.code", read_only=True)

    class Meta:
        model = Race
        fields = [
            "id",
            "racecourse",
            "racecourse_code",
            "meeting_date",
            "race_number",
            "post_time",
            "name",
            "distance_m",
            "surface",
            "going",
            "race_class",
            "rating_band",
            "prize",
            "prize_currency",
            "rail",
            "status",
            "source",
            "updated_at",
        ]
        read_only_fields = ["source", "updated_at"]
        extra_kwargs = {
            "going": {
                "error_messages": {
                    "invalid_choice": f'"{{input}}" is not a going; use one of '
                    f'{", ".join(Race.Going.values)}, or "" when unknown.'
                }
            }
        }


class ResultRunnerSerializer(serializers.ModelSerializer):
    """A runner in a result: where it finished, how far behind, at what odds. As The Racing API's
    results give them: `finish_position` is its position, `win_odds` its decimal starting price
    (sp_dec), `lengths_behind` the distance behind the winner (ovr_btn)."""

    horse_name = serializers.CharField(source="horse.name")
    jockey_name = serializers.CharField(source="jockey.name", allow_null=True)
    trainer_name = serializers.CharField(source="trainer.name", allow_null=True)

    class Meta:
        model = Runner
        fields = [
            "id",
            "saddle_number",
            "draw",
            "horse",
            "horse_name",
            "jockey",
            "jockey_name",
            "trainer",
            "trainer_name",
            "carried_weight_lb",
            "rating",
            "win_odds",
            "finish_position",
            "dead_heat",
            "lengths_behind",
            "finish_time",
            "non_runner",
        ]
        read_only_fields = fields


class RaceHeaderMixin(serializers.Serializer):
    """Where a race is run, as a racecard or result lists it: the course's name and region."""

    racecourse_name = serializers.CharField(source="racecourse.name", read_only=True)
    region = serializers.CharField(
        source="racecourse.country", read_only=True, help_text="ISO 3166-1 alpha-2 code."
    )
    field_size = serializers.IntegerField(
        read_only=True, help_text="The runners that are not non-runners."
    )


class ResultSerializer(RaceHeaderMixin, serializers.ModelSerializer):
    """A race with its result: the runners in finishing order, non-runners last."""

    racecourse_code = serializers.CharField(source="racecourse.code", read_only=True)
    runners = ResultRunnerSerializer(many=True, read_only=True)

    class Meta:
        model = Race
        fields = [
            "id",
            "racecourse",
            "racecourse_code",
            "racecourse_name",
            "region",
            "meeting_date",
            "race_number",
            "post_time",
            "name",
            "distance_m",
            "surface",
            "going",
            "race_class",
            "rating_band",
            "prize",
            "prize_currency",
            "status",
            "field_size",
            "runners",
        ]
        read_only_fields = fields


class OperationSerializer(serializers.ModelSerializer):
    """Background work staff asked for: queued, then running, then done (with what it did) or
    failed (with why). Poll `poll` until `status` is done or failed."""

    poll = serializers.SerializerMethodField(help_text="This operation's absolute URL, to poll.")

    class Meta:
        model = Operation
        fields = [
            "id",
            "kind",
            "status",
            "poll",
            "parameters",
            "outcome",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_poll(self, operation: Operation) -> str:
        return reverse("operation-detail", args=[operation.pk], request=self.context["request"])
