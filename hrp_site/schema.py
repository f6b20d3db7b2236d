"""The OpenAPI schema: drf-spectacular's, with the error responses DRF gives."""

from decimal import Decimal

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .api import ErrorSerializer
from .filters import NO_NUL

_ERRORS = {
    "400": OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: messages by field."),
    "401": OpenApiResponse(ErrorSerializer, description="Not signed in."),
    "403": OpenApiResponse(ErrorSerializer, description="Not allowed."),
    "404": OpenApiResponse(ErrorSerializer, description="Not found."),
    "429": OpenApiResponse(ErrorSerializer, description="Too many requests."),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema with the error responses DRF gives on every operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        # Path parameters that match nothing, and pages past the end.
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(_ERRORS[code], code)
        return responses

    def get_tags(self) -> list[str]:
        # One tag per resource, from the path after /api/v1 (SCHEMA_PATH_PREFIX); the unversioned
        # /api/providers, kept for old consumers, goes with its resource too.
        tokens = self._tokenize_path()
        return tokens[1:2] if tokens[:1] == ["api"] else tokens[:1]

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response":
            # A response holds every field the serializer renders: required, so generated clients
            # type them as always there. A field declared optional may be left out (see
            # `_always_rendered`); drf-spectacular marks only read-only and input-required ones.
            serializer = force_instance(serializer)
            rendered = [
                name
                for name, field in serializer.fields.items()
                if name in schema.get("properties", {}) and _always_rendered(serializer, field)
            ]
            required = sorted({*schema.get("required", []), *rendered})
            if required:
                schema["required"] = required
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # A raw schema that requires properties, itself or in each of its oneOf, needs a body.
        if isinstance(serializer, dict) and (serializer.get("required") or serializer.get("oneOf")):
            required = True
        return schema, required

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and type(field) is serializers.CharField
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            schema["pattern"] = NO_NUL
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            extra = _decimal_string(field)
            if "description" in extra and schema.get("description"):
                extra["description"] = f"{schema['description']} {extra['description']}"
            schema.update(extra)
        return schema


def _always_rendered(serializer: serializers.Serializer, field: serializers.Field) -> bool:
    """Whether DRF renders `field` whatever the instance: it skips only a field that is
    write-only, or one declared `required=False` whose attribute is missing."""
    if field.write_only:
        return False
    declared_optional = (
        field.field_name in getattr(serializer, "_declared_fields", {})
        and field._kwargs.get("required") is False
    )
    return not declared_optional


def _decimal_string(field: serializers.DecimalField) -> dict:
    """A decimal in a string as the API takes it (hrp_site.api.DECIMAL_STRING): at least one
    digit, no sign when it cannot be negative. A string's schema cannot hold a numeric bound, so
    the description states it."""
    whole, places = field.max_whole_digits, field.decimal_places
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    digits = f"{{1,{whole}}}" if whole is not None else "+"
    pattern = rf"^{sign}(?:[0-9]{digits}(?:\.[0-9]{{0,{places}}})?|\.[0-9]{{1,{places}}})$"
    bounds = [
        f"at least {field.min_value}" if field.min_value not in (None, Decimal(0)) else "",
        f"at most {field.max_value}" if field.max_value is not None else "",
    ]
    extra = {"pattern": pattern}
    stated = " and ".join(b for b in bounds if b)
    if stated:
        extra["description"] = f"A decimal in a string, {stated}."
    return extra
