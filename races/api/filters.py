import django_filters

from hrp_site import filters
from races.models import Horse, Jockey, Operation, Race, Racecourse, Runner, Trainer


class RacecourseFilter(filters.FilterSet):
    code = filters.TextFilter(lookup_expr="iexact", max_length=8)
    country = filters.TextFilter(max_length=2, help_text="ISO 3166-1 alpha-2 code.")

    class Meta:
        model = Racecourse
        fields = ["code", "country"]


class RaceFilter(filters.FilterSet):
    date = filters.DateFilter(field_name="meeting_date")
    date_from = filters.DateFilter(field_name="meeting_date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="meeting_date", lookup_expr="lte")
    course = filters.TextFilter(
        field_name="racecourse__code",
        lookup_expr="iexact",
        max_length=8,
        help_text="Racecourse code, e.g. ST.",
    )
    racecourse = filters.IdFilter()
    status = django_filters.ChoiceFilter(choices=Race.Status.choices)
    surface = django_filters.ChoiceFilter(choices=Race.Surface.choices)

    class Meta:
        model = Race
        fields = ["date", "date_from", "date_to", "course", "racecourse", "status", "surface"]


class RaceCourseRegionFilter(filters.FilterSet):
    """Races by racecourse code and region: the racecards' and the results' shared filters."""

    course = filters.TextFilter(
        field_name="racecourse__code",
        lookup_expr="iexact",
        max_length=8,
        help_text="Racecourse code, e.g. ST.",
    )
    region = filters.TextFilter(
        field_name="racecourse__country",
        lookup_expr="iexact",
        max_length=2,
        help_text="The racecourse's country, ISO 3166-1 alpha-2: GB, IE, HK, ...",
    )


class ResultFilter(RaceCourseRegionFilter):
    date_from = filters.DateFilter(
        field_name="meeting_date", lookup_expr="gte", help_text="The first race day, inclusive."
    )
    date_to = filters.DateFilter(
        field_name="meeting_date", lookup_expr="lte", help_text="The last race day, inclusive."
    )

    class Meta:
        model = Race
        fields = ["date_from", "date_to", "course", "region"]


class RunnerFilter(filters.FilterSet):
    race = filters.IdFilter()
    date = filters.DateFilter(field_name="race__meeting_date")
    horse = filters.IdFilter()
    jockey = filters.IdFilter()
    trainer = filters.IdFilter()
    non_runner = filters.BooleanFilter()

    class Meta:
        model = Runner
        fields = ["race", "date", "horse", "jockey", "trainer", "non_runner"]


class ParticipantFilter(filters.FilterSet):
    name = filters.TextFilter(lookup_expr="icontains", max_length=100)


class HorseFilter(ParticipantFilter):
    country = filters.TextFilter(max_length=3, help_text="Country of breeding.")

    class Meta:
        model = Horse
        fields = ["name", "country"]


class JockeyFilter(ParticipantFilter):
    class Meta:
        model = Jockey
        fields = ["name"]


class TrainerFilter(ParticipantFilter):
    class Meta:
        model = Trainer
        fields = ["name"]


class OperationFilter(filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Operation.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Operation.Status.choices)

    class Meta:
        model = Operation
        fields = ["kind", "status"]
