"""Query parameters the API reads strictly: a value the schema does not allow is a 400 that names
the parameter, never quietly ignored (django-filter and DRF drop a value they cannot read, and
take a blank one as absent)."""

import datetime
import re

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters, serializers
from rest_framework.settings import api_settings

# The largest id a BigAutoField holds.
MAX_ID = 2**63 - 1
BLANK = "Give a value, or leave the parameter out."
# Text without NUL characters, which Django's and DRF's text fields refuse.
NO_NUL = "^[^\\u0000]*$"


class StrictIntegerField(forms.IntegerField):
    """Digits only: no "1.0", " 1" or "+1", which Django's IntegerField takes."""

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(r"-?[0-9]+", str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdField(StrictIntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class IsoDateField(forms.DateField):
    """YYYY-MM-DD only, as the schema's `format: date` says."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanField(forms.Field):
    """`true` or `false`, as the schema's boolean is sent; anything else is refused rather than
    read as "no filter"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError("Must be true or false.", code="invalid")
        return value == "true"


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """A row's id. An id that names no row matches nothing (an empty page), as any filter may."""

    field_class = IdField


@extend_schema_field(ID_SCHEMA)
class IdInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """Comma-separated ids, e.g. 3,4,5."""

    base_field_class = django_filters.fields.BaseCSVField
    field_class = IdField


@extend_schema_field({"type": "string", "format": "date"})
class DateFilter(django_filters.DateFilter):
    field_class = IsoDateField


@extend_schema_field({"type": "boolean"})
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class TextFilter(django_filters.CharFilter):
    """Free text of 1 to max_length characters."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        schema = {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NO_NUL}
        set_override(self, "field", schema)


# The longest text a filter takes unless it says otherwise. SQLite refuses a LIKE pattern over
# 50,000 bytes, and no name or code comes near this.
TEXT_MAX_LENGTH = 100


class FilterSet(django_filters.FilterSet):
    """Refuses a blank value (`?date=`) of any of its parameters, which django-filter would take
    as no filter at all, and bounds every text filter, declared or generated (TEXT_MAX_LENGTH
    unless it sets its own)."""

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            if isinstance(filter_, django_filters.CharFilter):
                filter_.extra.setdefault("max_length", TEXT_MAX_LENGTH)
        return filters

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and "" in self.data.getlist(name):
                self.form.add_error(name, BLANK)
                valid = False
        return valid


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, except an unknown field or a blank term is a 400 rather than ignored, and
    the schema lists the fields."""

    def get_ordering(self, request, queryset, view):
        if self.ordering_param not in request.query_params:
            return self.get_default_ordering(view)
        terms = [term.strip() for term in request.query_params[self.ordering_param].split(",")]
        allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [term for term in terms if term.removeprefix("-") not in allowed]
        if unknown:
            choices = ", ".join(sorted(allowed))
            raise serializers.ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(map(repr, unknown))}; "
                        f"order by a comma-separated list of: {choices}, each with an optional - "
                        "for descending."
                    ]
                }
            )
        return terms

    def get_schema_operation_parameters(self, view):
        fields = getattr(view, "ordering_fields", None)
        if not fields or fields == "__all__":
            return super().get_schema_operation_parameters(view)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Fields to order by, comma-separated; a leading - for descending.",
                "style": "form",
                "explode": False,
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "enum": [*fields, *(f"-{f}" for f in fields)]},
                },
            }
        ]


class KnownParametersFilter(filters.BaseFilterBackend):
    """An unknown query parameter is a 400 naming it, never ignored: a misspelt filter
    (`?meeting_date=...`, `?winner=1`) would otherwise answer with every row. What is known is
    what the schema lists for the view (its filters, ordering and pages), and DRF's `format`."""

    def filter_queryset(self, request, queryset, view):
        unknown = sorted(set(request.query_params) - known_parameters(view))
        if unknown:
            takes = ", ".join(sorted(known_parameters(view) - {api_settings.URL_FORMAT_OVERRIDE}))
            message = f"Unknown query parameter; this endpoint takes: {takes or 'none'}."
            raise serializers.ValidationError({name: [message] for name in unknown})
        return queryset


def known_parameters(view) -> set[str]:
    known = {api_settings.URL_FORMAT_OVERRIDE}
    for backend_class in view.filter_backends:
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            filterset_class = backend.get_filterset_class(view, view.get_queryset())
            known |= set(filterset_class.base_filters) if filterset_class else set()
        elif backend_class is not KnownParametersFilter:
            known |= {p["name"] for p in backend.get_schema_operation_parameters(view)}
    if getattr(view, "paginator", None) is not None:
        known |= {p["name"] for p in view.paginator.get_schema_operation_parameters(view)}
    return known
