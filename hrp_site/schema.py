"""The OpenAPI schema: drf-spectacular's, with the error responses DRF gives."""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from .api import ErrorSerializer

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
