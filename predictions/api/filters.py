import django_filters

from hrp_site.api import FilterSet
from predictions.models import ModelVersion, Prediction


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    pass


class ModelVersionFilter(FilterSet):
    class Meta:
        model = ModelVersion
        fields = ["algorithm", "status", "is_active"]


class PredictionFilter(FilterSet):
    race = django_filters.NumberFilter(field_name="runner__race")
    race_ids = NumberInFilter(
        field_name="runner__race", help_text="Comma-separated race ids, e.g. 3,4,5."
    )
    date = django_filters.DateFilter(field_name="runner__race__meeting_date")
    algorithm = django_filters.ChoiceFilter(
        field_name="model_version__algorithm", choices=ModelVersion.Algorithm.choices
    )

    class Meta:
        model = Prediction
        fields = ["race", "race_ids", "date", "model_version", "algorithm", "runner"]
