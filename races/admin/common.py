"""What the races admin pages share: display helpers, an autocomplete that reuses loaded rows."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

IMPORT_PERMISSIONS = ("races.add_race", "races.add_runner")


def count_of(queryset, fk: str):
    """A correlated COUNT per row, rather than a join that groups every row of both tables."""
    counted = queryset.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")), 0)


def percent(value: float | None) -> str | None:
    return None if value is None else f"{value:.1%}"


@admin.display(description="source", ordering="source")
def source_code(record):
    # The short code: the labels ("Hong Kong results (CSV)") would wrap every row.
    return record.source


def shown(model_admin, value):
    # Read-only fields on change pages print None as "None"; lists already print it as "-".
    return model_admin.get_empty_value_display() if value is None else value


class LoadedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that labels its selected option from an object already loaded.

    Django's widget fetches its selected object with a query of its own: on the race page that is
    three queries for every runner row. `LoadedAutocompleteForm` hands the widget the object that
    the admin's `select_related` queryset already loaded.
    """

    loaded = None

    def optgroups(self, name, value, attr=None):
        if self.loaded is None or list(value) != [str(self.loaded.pk)]:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        label = self.choices.field.label_from_instance(self.loaded)
        options.append(self.create_option(name, self.loaded.pk, label, True, len(options)))
        return [(None, options, 0)]


class LoadedAutocompleteForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # in RelatedFieldWidgetWrapper
            if not isinstance(widget, LoadedAutocompleteSelect):
                continue
            if self.instance._meta.get_field(name).is_cached(self.instance):
                widget.loaded = getattr(self.instance, name)


class LoadedAutocompleteMixin:
    """Autocomplete fields labelled from the related rows that `get_queryset` selects."""

    form = LoadedAutocompleteForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = LoadedAutocompleteSelect(db_field, self.admin_site, using=using)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def lines_shown(model_admin, lines: list[str]):
    """Stored lines (a summary, errors) one per line; the empty value when there are none."""
    if not lines:
        return shown(model_admin, None)
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))
