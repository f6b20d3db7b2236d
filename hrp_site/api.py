"""What every app's API shares: the permission, the pagination, the error and operation bodies,
and validation through the model."""

import copy
from decimal import Decimal

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import pagination, permissions, serializers
from rest_framework.settings import api_settings


class IsMemberReadStaffWrite(permissions.BasePermission):
    """Signed-in members read; only staff write."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


# The longest text a list filter takes. SQLite refuses a LIKE pattern over 50,000 bytes, and no
# name or code comes near this.
FILTER_TEXT_MAX_LENGTH = 100


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose text filters, declared or generated, take at most FILTER_TEXT_MAX_LENGTH
    characters: a longer value is a 400 naming the parameter."""

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            if isinstance(filter_, django_filters.CharFilter):
                filter_.extra.setdefault("max_length", FILTER_TEXT_MAX_LENGTH)
        return filters


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OperationQueuedSerializer(serializers.Serializer):
    """What an operation answers: it was queued, and where to follow it."""

    status = serializers.CharField()
    poll = serializers.CharField(help_text="The URL to poll for the result.")


def check_constraint_minimums(model: type[models.Model]) -> dict[str, int | Decimal]:
    """The least value of each field that a check constraint bounds on its own: `field >= v` or
    `field > v`, with or without `field IS NULL` beside it (`> v` is the next value the field
    can store above v)."""
    minimums: dict[str, int | Decimal] = {}
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        condition = constraint.condition
        if condition.negated or not all(isinstance(child, tuple) for child in condition.children):
            continue
        bounds = [child for child in condition.children if child[0].endswith(("__gte", "__gt"))]
        if len(bounds) != 1:
            continue
        lookup, value = bounds[0]
        name, _, operator = lookup.rpartition("__")
        others = [child for child in condition.children if child != bounds[0]]
        if others and (condition.connector != "OR" or others != [(f"{name}__isnull", True)]):
            continue
        field = model._meta.get_field(name)
        if isinstance(field, models.DecimalField):
            step = Decimal(1).scaleb(-field.decimal_places)
            minimums[name] = (Decimal(value) + (step if operator == "gt" else 0)).quantize(step)
        else:
            minimums[name] = value + (1 if operator == "gt" else 0)
    return minimums


class ValidatedModelSerializer(serializers.ModelSerializer):
    """Validates a write through the model, as NetBox's ValidatedModelSerializer does: the
    instance as it would be saved goes through `full_clean()`, so the model's fields and
    constraints stay the one home of its rules.

    A field bounded by a check constraint gets the bound as its `min_value`, so the API says so
    in its schema and in DRF's words. Django reports any other violated check constraint for the
    whole object, by the constraint's name; `Meta.constraint_errors` maps such a name to the field
    and the words to report it with.
    """

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        minimum = check_constraint_minimums(self.Meta.model).get(field_name)
        if minimum is not None:
            field_kwargs["min_value"] = max(minimum, field_kwargs.get("min_value", minimum))
        return field_class, field_kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        # A copy, so that a refused update leaves the instance the view holds as it was.
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(self._errors_on_fields(error)) from error
        return attrs

    def _errors_on_fields(self, error: DjangoValidationError) -> dict[str, list[str]]:
        wording = getattr(self.Meta, "constraint_errors", {})
        named = {
            constraint.get_violation_error_message(): wording[constraint.name]
            for constraint in self.Meta.model._meta.constraints
            if constraint.name in wording
        }
        errors: dict[str, list[str]] = {}
        for field, messages in error.message_dict.items():
            for message in messages:
                if field == NON_FIELD_ERRORS and message in named:
                    field_named, message_named = named[message]
                    errors.setdefault(field_named, []).append(message_named)
                else:
                    key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
                    errors.setdefault(key, []).append(message)
        return errors
