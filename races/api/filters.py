import django_filters

from hrp_site.api import FilterSet
from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer


class RacecourseFilter(FilterSet):
    code = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Racecourse
        fields = ["code", "country"]


class RaceFilter(FilterSet):
    date = django_filters.DateFilter(field_name="meeting_date")
    date_from = django_filters.DateFilter(field_name="meeting_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="meeting_date", lookup_expr="lte")
    course = django_filters.CharFilter(
        field_name="racecourse__code", lookup_expr="iexact", help_text="Racecourse code, e.g. ST."
    )

    class Meta:
        model = Race
        fields = ["date", "date_from", "date_to", "course", "racecourse", "status", "surface"]


class RunnerFilter(FilterSet):
    date = django_filters.DateFilter(field_name="race__meeting_date")

    class Meta:
        model = Runner
        fields = ["race", "date", "horse", "jockey", "trainer", "non_runner"]


class ParticipantFilter(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")


class HorseFilter(ParticipantFilter):
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
