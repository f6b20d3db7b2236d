"""What every app's API shares: the permission, the pagination, the error body, and validation
through the model."""

import copy
import re
from decimal import Decimal

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
    """DRF's pages, except that a page or page_size it cannot use is a 400 naming the parameter
    (DRF ignores such a page_size, caps a large one, and takes a blank page as the first)."""

    page_size_query_param = "page_size"
    max_page_size = 200
    # No `page=last`: the schema says a page is a number.
    last_page_strings = ()

    def get_page_size(self, request) -> int:
        return _query_count(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def get_page_number(self, request, paginator) -> int:
        return _query_count(request, self.page_query_param, 1)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        # next and previous are always there, null at either end.
        response["required"] = list(response["properties"])
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def _query_count(request, name: str, default: int, maximum: int | None = None) -> int:
    """The whole number 1 to maximum in query parameter `name`; the default when it is absent."""
    if name not in request.query_params:
        return default
    value = request.query_params[name]
    if (
        re.fullmatch(r"[0-9]+", value)
        and int(value) >= 1
        and (not maximum or int(value) <= maximum)
    ):
        return int(value)
    bounds = f"from 1 to {maximum}" if maximum else "of 1 or more"
    raise serializers.ValidationError({name: [f"Must be a whole number {bounds}."]})


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


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


# A decimal as the API takes it: in a string, digits with an optional point and sign, no exponent.
DECIMAL_STRING = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"


def json_type_error(field: serializers.Field, value) -> str | None:
    """What is wrong with the JSON type of `value` for `field`, if anything. DRF converts many
    values the schema does not allow (0 for false, 5 for "5", "5" for 5, " 1.5 " for a decimal)."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.DecimalField):
        if isinstance(value, str) and re.fullmatch(DECIMAL_STRING, value):
            return None
        return 'Must be a decimal number in a string, e.g. "3.50".'
    if isinstance(field, (serializers.IntegerField, serializers.PrimaryKeyRelatedField)):
        return (
            None
            if isinstance(value, int) and not isinstance(value, bool)
            else "Must be an integer."
        )
    if isinstance(field, serializers.FloatField):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if is_number else "Must be a number."
    if isinstance(
        field,
        (
            serializers.CharField,
            serializers.ChoiceField,
            serializers.DateField,
            serializers.DateTimeField,
            serializers.TimeField,
        ),
    ):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a list."
        return next(filter(None, (json_type_error(field.child, item) for item in value)), None)
    return None


class StrictTypesMixin:
    """Refuses a field's value of a JSON type its schema does not allow, naming the field."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {
                field.field_name: [message]
                for field in self._writable_fields
                if field.field_name in data
                and (message := json_type_error(field, data[field.field_name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictTypesMixin, serializers.Serializer):
    pass


class ValidatedModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
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
