import django_filters

from hrp_site import filters
from predictions.models import ModelVersion, Prediction
from races.models import Race


class ModelVersionFilter(filters.FilterSet):
    algorithm = django_filters.ChoiceFilter(choices=ModelVersion.Algorithm.choices)
    status = django_filters.ChoiceFilter(choices=ModelVersion.Status.choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = ModelVersion
        fields = ["algorithm", "status", "is_active"]


class PredictionFilter(filters.FilterSet):
    race = filters.IdFilter(field_name="runner__race")
    race_ids = filters.IdInFilter(
        field_name="runner__race", help_text="Comma-separated race ids, e.g. 3,4,5."
    )
    date = filters.DateFilter(field_name="runner__race__meeting_date")
    model_version = filters.IdFilter()
    algorithm = django_filters.ChoiceFilter(
        field_name="model_version__algorithm", choices=ModelVersion.Algorithm.choices
    )
    runner = filters.IdFilter()

    class Meta:
        model = Prediction
        fields = ["race", "race_ids", "date", "model_version", "algorithm", "runner"]


class RacecardFilter(filters.FilterSet):
    date = filters.DateFilter(field_name="meeting_date", help_text="The race day; default today.")
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

    class Meta:
        model = Race
        fields = ["date", "course", "region"]
