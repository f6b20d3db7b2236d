"""Reading and validating the Hong Kong results CSV pair (`races.csv`, `runs.csv`).

Pure Python over rows: no ORM here. `races.services.hkracing_import` validates the whole pair
with these parsers first and writes only when no row is wrong. The files are opened here, the
same way for a folder (the command, the file provider) and for an upload's bytes.

Traps of the source (../shared/data/README.md): only finishers are listed, two runners sharing a
`result` are a dead heat, `win_odds` is capped at 99 and a few are 1.0 (the minimum dividend,
which implies no probability), `place_odds` is missing for whole races, `lengths_behind`,
`behind_sec*` and `time*` use 999 as a placeholder for "unknown", and dates were shifted by the
publisher (the spacing between race days is real).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

PLACEHOLDER = Decimal(999)
SECTIONS = range(1, 7)
RACE_SECTIONS = range(1, 8)

# Reads plain UTF-8 too, and drops the byte-order mark that spreadsheets save first.
ENCODING = "utf-8-sig"

VENUES = {"ST": "Sha Tin", "HV": "Happy Valley"}
SURFACES = {"0": "turf", "1": "all_weather"}


@dataclass(frozen=True)
class RowError:
    """One reason a file was rejected, pointing at the file, line and column."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ErrorLog:
    """Collects row errors: keeps the first few to show, counts them all."""

    def __init__(self, keep: int = 20) -> None:
        self.keep = keep
        self.first: list[RowError] = []
        self.total = 0

    def append(self, error: RowError) -> None:
        self.total += 1
        if len(self.first) < self.keep:
            self.first.append(error)

    def __bool__(self) -> bool:
        return self.total > 0


class CellInvalid(ValueError):
    """A cell that cannot be read; the message says why, in words a data clerk understands."""


Converter = Callable[[str], Any]


def text(value: str) -> str:
    return value.strip()


def required_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise CellInvalid("is empty")
    return value


def integer(minimum: int | None = None) -> Converter:
    def convert(value: str) -> int:
        number = _decimal(value)
        if number != number.to_integral_value():
            raise CellInvalid(f"{value!r} is not a whole number")
        if minimum is not None and number < minimum:
            raise CellInvalid(f"{value!r} is below the minimum of {minimum}")
        return int(number)

    return convert


def decimal(
    minimum: Decimal | int | None = None,
    places: int = 2,
    placeholder: Decimal | None = None,
) -> Converter:
    """A decimal number; `placeholder` is the source's code for "unknown" and reads as None."""
    quantum = Decimal(1).scaleb(-places)

    def convert(value: str) -> Decimal | None:
        number = _decimal(value)
        if placeholder is not None and number == placeholder:
            return None
        if minimum is not None and number < minimum:
            raise CellInvalid(f"{value!r} is below the minimum of {minimum}")
        return number.quantize(quantum)

    return convert


def optional(convert: Converter) -> Converter:
    def convert_optional(value: str) -> Any:
        return convert(value) if value.strip() else None

    return convert_optional


def one_of(choices: dict[str, str]) -> Converter:
    def convert(value: str) -> str:
        value = value.strip()
        if value not in choices:
            raise CellInvalid(f"{value!r} is not one of {', '.join(sorted(choices))}")
        return choices[value]

    return convert


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise CellInvalid(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _decimal(value: str) -> Decimal:
    value = value.strip()
    if not value:
        raise CellInvalid("is empty")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellInvalid(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise CellInvalid(f"{value!r} is not a number")
    return number


RACE_COLUMNS: dict[str, Converter] = {
    "race_id": integer(minimum=0),
    "date": iso_date,
    "venue": one_of({code: code for code in VENUES}),
    "race_no": integer(minimum=1),
    "config": text,
    "surface": one_of(SURFACES),
    "distance": integer(minimum=1),
    "going": required_text,
    "horse_ratings": text,
    "prize": optional(decimal(minimum=0)),
    "race_class": text,
    **{
        f"sec_time{i}": optional(decimal(minimum=0, placeholder=PLACEHOLDER)) for i in RACE_SECTIONS
    },
}

RUN_COLUMNS: dict[str, Converter] = {
    "race_id": integer(minimum=0),
    "horse_no": integer(minimum=1),
    "horse_id": integer(minimum=0),
    "result": integer(minimum=1),
    "won": one_of({"0": "0", "1": "1", "0.0": "0", "1.0": "1"}),
    "lengths_behind": decimal(placeholder=PLACEHOLDER),
    "horse_age": optional(integer(minimum=1)),
    "horse_country": text,
    "horse_type": text,
    "horse_rating": optional(integer()),
    "horse_gear": text,
    "declared_weight": optional(decimal(minimum=1, places=1)),
    "actual_weight": optional(integer(minimum=1)),
    "draw": optional(integer(minimum=1)),
    **{f"position_sec{i}": optional(integer(minimum=1)) for i in SECTIONS},
    **{f"behind_sec{i}": optional(decimal(placeholder=PLACEHOLDER)) for i in SECTIONS},
    **{f"time{i}": optional(decimal(minimum=0, placeholder=PLACEHOLDER)) for i in SECTIONS},
    "finish_time": optional(decimal(minimum=0, placeholder=PLACEHOLDER)),
    "win_odds": decimal(minimum=Decimal("0.01")),
    "place_odds": optional(decimal(minimum=1)),
    "trainer_id": integer(minimum=0),
    "jockey_id": integer(minimum=0),
}


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    values: dict[str, Any]


def read_rows(
    handle: TextIO, *, file: str, columns: dict[str, Converter], errors: ErrorLog
) -> Iterator[ParsedRow]:
    """Yield each row that reads cleanly; append a RowError for every bad cell of the others.

    A missing column is one error for the whole file and yields nothing.
    """
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    missing = [column for column in columns if column not in header]
    if missing:
        errors.append(
            RowError(
                file, 1, None, f"missing column{'s' * (len(missing) > 1)}: {', '.join(missing)}"
            )
        )
        return
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(RowError(file, line, None, "has more cells than the header"))
            continue
        values: dict[str, Any] = {}
        row_ok = True
        for column, convert in columns.items():
            cell = row[column]
            if cell is None:
                errors.append(RowError(file, line, column, "is missing (the row is too short)"))
                row_ok = False
                continue
            try:
                values[column] = convert(cell)
            except CellInvalid as exc:
                errors.append(RowError(file, line, column, str(exc)))
                row_ok = False
        if row_ok:
            yield ParsedRow(line, values)


def sections(values: dict[str, Any], prefix: str, numbers: range) -> list[Any]:
    """The values of numbered section columns as a JSON-ready list, trailing blanks dropped."""
    items = [values[f"{prefix}{i}"] for i in numbers]
    while items and items[-1] is None:
        items.pop()
    return [float(item) if isinstance(item, Decimal) else item for item in items]


class FileMissing(Exception):
    """A folder lacks one of the pair."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} does not exist or is not a file")


@contextmanager
def folder_open(folder: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """The folder's races.csv and runs.csv, open as text; `FileMissing` names an absent one."""
    races_path, runs_path = folder / "races.csv", folder / "runs.csv"
    for path in (races_path, runs_path):
        if not path.is_file():
            raise FileMissing(path)
    with (
        races_path.open(encoding=ENCODING, newline="") as races_file,
        runs_path.open(encoding=ENCODING, newline="") as runs_file,
    ):
        yield races_file, runs_file


def bytes_open(data: bytes | memoryview) -> TextIO:
    """An uploaded file's bytes, open as text the way a folder's files are."""
    return io.TextIOWrapper(io.BytesIO(bytes(data)), encoding=ENCODING, newline="")
