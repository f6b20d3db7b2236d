"""The API's one request body parser: JSON, bounded.

DRF's JSONParser reads the whole body whatever its size (Django's DATA_UPLOAD_MAX_MEMORY_SIZE
guards only `request.body` and forms), and a body nested 100,000 levels deep ends in a
RecursionError, a 500. This parser reads at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413 beyond),
and answers 400, saying why, for a body that is not UTF-8, nests deeper than MAX_DEPTH, or holds
what JSON or the database cannot: NaN, Infinity, a number too large for a float, a lone surrogate.
"""

import json
import math

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from hrp_site.errors import body_too_large_detail

# Arrays and objects inside one another; no request body of the API nests more than two.
MAX_DEPTH = 32


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = _read_bounded(stream)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"JSON parse error - the body is not UTF-8: byte {body[exc.start]:#04x} at "
                f"position {exc.start}."
            ) from exc
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError as exc:
            raise ParseError(_too_deep()) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        _check_depth_and_strings(data)
        return data


def _read_bounded(stream) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestBodyTooLarge(body_too_large_detail())
    return body


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_DEPTH} levels."


def _check_depth_and_strings(data) -> None:
    """Walks the parsed body without recursion: arrays and objects at most MAX_DEPTH deep, and
    no string (key or value) holding a lone surrogate, which no database column can store."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, list | dict):
            if depth + 1 > MAX_DEPTH:
                raise ParseError(_too_deep())
            if isinstance(value, dict):
                for key in value:
                    _check_string(key)
                value = value.values()
            pending.extend((item, depth + 1) for item in value)


def _check_string(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError(
            f"JSON parse error - a string holds a lone surrogate "
            f"(\\u{ord(text[exc.start]):04x}), which is not a character."
        ) from exc
