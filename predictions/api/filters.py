import django_filters

from hrp_site import filters
from predictions.models import ModelVersion, Prediction
from races.api.filters import RaceCourseRegionFilter
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


class RacecardFilter(RaceCourseRegionFilter):
    date = filters.DateFilter(field_name="meeting_date", help_text="The race day; default today.")

    class Meta:
        model = Race
        fields = ["date", "course", "region"]
