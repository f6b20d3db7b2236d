"""The Hong Kong pair read a column at a time with pandas: the fast way through a plain pair.

`races.hkracing` reads row by row, which names every bad cell by its line but costs ~70 µs a run,
most of an import's time. Here pandas' C reader parses the columns and NumPy converts them, under
rules that accept only plain cells, for which the result is the row converters' own: numbers not
on a rounding tie, dates as YYYY-MM-DD, known codes, rows as long as the header. On anything
else, errors included, the reading gives up (`FramesUnplain`) and the import reads the pair row
by row instead, which names the errors by line or, for an odd but valid cell ("1_000", "２"),
reads it the exact way. Numbers go through a double: a cell whose text differs from a whole
number, or from its column's minimum or placeholder, only past the 15th significant digit reads
as that number. No ORM here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import pandas as pd

from races import hkracing

CHUNK_ROWS = 50_000  # rows of one frame: bounds memory whatever the size of the file
# Decimals below this keep far more than their column's places in a double; beyond, row path.
DECIMAL_LIMIT = 1e9
# Every whole number up to here is exact in a double.
INTEGER_LIMIT = 2**53
TIE_TOLERANCE = 1e-4  # in units of a decimal's last place; far above a double's error there
ISO_DATE = r"\d{4}-\d{2}-\d{2}"


class FramesUnplain(Exception):
    """A file, row or cell only the row readers may judge (it may still be valid)."""


@dataclass(frozen=True)
class Text:
    """Stripped text, like `hkracing.text`; `required`, `choices` and `date` as the row
    converters `required_text`, `one_of` and `iso_date` (a date stays its ISO text)."""

    required: bool = False
    choices: dict[str, str] | None = None
    date: bool = False

    def convert(self, cells: pd.Series) -> pd.Series:
        if cells.isna().any():
            raise FramesUnplain
        values = cells.str.strip()
        if self.required and (values == "").any():
            raise FramesUnplain
        if self.choices is not None:
            values = values.map(self.choices)
            if values.isna().any():
                raise FramesUnplain
        if self.date and not (
            values.str.fullmatch(ISO_DATE).all()
            and pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna().all()
        ):
            raise FramesUnplain
        return values


@dataclass(frozen=True)
class Number:
    """A number as `hkracing.integer` (places None) or `hkracing.decimal` reads it: whole numbers
    as nullable integers, decimals as doubles on their column's grid; missing (or the source's
    placeholder for "unknown") as NA."""

    minimum: float | None = None
    places: int | None = None
    placeholder: float | None = None
    optional: bool = False

    def convert(self, cells: pd.Series) -> pd.Series:
        if cells.dtype.kind not in "iuf":
            raise FramesUnplain
        values = cells.astype("float64")
        missing = values.isna()
        if missing.any() and not self.optional:
            raise FramesUnplain
        present = values[~missing]
        limit = INTEGER_LIMIT if self.places is None else DECIMAL_LIMIT
        if not (np.isfinite(present).all() and (present.abs() < limit).all()):
            raise FramesUnplain
        if self.places is None:
            grid = present.round()
            if (present != grid).any():  # the row converter refuses a fraction
                raise FramesUnplain
        else:
            # Rounded as Decimal.quantize rounds the cell's text, except within a hair of a tie,
            # where the double may sit on the other side of it than the text: row path there.
            scaled = present * 10.0**self.places
            if ((scaled - np.floor(scaled) - 0.5).abs() < TIE_TOLERANCE).any():
                raise FramesUnplain
            grid = present.round(self.places)
        if self.placeholder is not None:
            grid = grid.mask(present == self.placeholder)
        if self.minimum is not None and (present[grid.notna()] < self.minimum).any():
            raise FramesUnplain
        values = grid.reindex(values.index)
        return values.astype("Int64") if self.places is None else values


def _whole(minimum: int | None = None, *, optional: bool = False) -> Number:
    return Number(minimum=minimum, optional=optional)


def _decimal(
    minimum: float | None = None,
    places: int = 2,
    placeholder: float | None = None,
    *,
    optional: bool = False,
) -> Number:
    return Number(minimum=minimum, places=places, placeholder=placeholder, optional=optional)


PLACEHOLDER = float(hkracing.PLACEHOLDER)

# The twins of hkracing.RACE_COLUMNS and RUN_COLUMNS, column for column (a test holds them so).
RACE_COLUMNS: dict[str, Text | Number] = {
    "race_id": _whole(0),
    "date": Text(date=True),
    "venue": Text(choices={code: code for code in hkracing.VENUES}),
    "race_no": _whole(1),
    "config": Text(),
    "surface": Text(choices=hkracing.SURFACES),
    "distance": _whole(1),
    "going": Text(required=True),
    "horse_ratings": Text(),
    "prize": _decimal(0, optional=True),
    "race_class": Text(),
    **{
        f"sec_time{i}": _decimal(0, placeholder=PLACEHOLDER, optional=True)
        for i in hkracing.RACE_SECTIONS
    },
}

RUN_COLUMNS: dict[str, Text | Number] = {
    "race_id": _whole(0),
    "horse_no": _whole(1),
    "horse_id": _whole(0),
    "result": _whole(1),
    "won": Text(choices={"0": "0", "1": "1", "0.0": "0", "1.0": "1"}),
    "lengths_behind": _decimal(placeholder=PLACEHOLDER),
    "horse_age": _whole(1, optional=True),
    "horse_country": Text(),
    "horse_type": Text(),
    "horse_rating": _whole(optional=True),
    "horse_gear": Text(),
    "declared_weight": _decimal(1, places=1, optional=True),
    "actual_weight": _whole(1, optional=True),
    "draw": _whole(1, optional=True),
    **{f"position_sec{i}": _whole(1, optional=True) for i in hkracing.SECTIONS},
    **{
        f"behind_sec{i}": _decimal(placeholder=PLACEHOLDER, optional=True)
        for i in hkracing.SECTIONS
    },
    **{f"time{i}": _decimal(0, placeholder=PLACEHOLDER, optional=True) for i in hkracing.SECTIONS},
    "finish_time": _decimal(0, placeholder=PLACEHOLDER, optional=True),
    "win_odds": _decimal(0.01),
    "place_odds": _decimal(1, optional=True),
    "trainer_id": _whole(0),
    "jockey_id": _whole(0),
}


def frames_read(
    handle: TextIO, columns: dict[str, Text | Number], *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The converted `columns` of `handle`'s rows, `chunk_rows` rows a frame, from its start.

    `FramesUnplain` (possibly after some frames) when a column is missing or doubled, a row is
    blank or not as long as the header, or a cell is not plain.
    """
    handle.seek(0)
    try:
        header = next(csv.reader(handle), [])
        if len(set(header)) != len(header) or any(column not in header for column in columns):
            raise FramesUnplain
        # pandas fills a short row's cells in silently; the row readers call that an error.
        if not _rows_fit(handle, len(header)):
            raise FramesUnplain
    except csv.Error as exc:  # the row readers meet it too, and say it
        raise FramesUnplain from exc
    handle.seek(0)
    numbers = [name for name, column in columns.items() if isinstance(column, Number)]
    try:
        chunks = pd.read_csv(
            handle,
            usecols=list(columns),
            dtype={name: str for name in columns if name not in numbers},
            keep_default_na=False,
            na_values={name: [""] for name in numbers},  # only an empty cell is missing
            chunksize=chunk_rows,
            low_memory=False,  # a chunk is typed whole, without warnings of mixed types
        )
        for chunk in chunks:
            yield pd.DataFrame(
                {name: column.convert(chunk[name]) for name, column in columns.items()}
            )
    except (ValueError, pd.errors.ParserError) as exc:  # pandas' refusals of a malformed file
        raise FramesUnplain from exc


BLOCK_CHARS = 1 << 20


def _rows_fit(handle: TextIO, width: int) -> bool:
    """Whether every row from `handle`'s start on has `width` cells, as `csv.reader` counts them.

    Without quotes or carriage returns (but those ending a line) a row is a line and its cells
    are its commas plus one: NumPy counts them a block at a time. Otherwise `csv.reader` reads
    the file again.
    """
    handle.seek(0)
    carry = ""
    while block := handle.read(BLOCK_CHARS):
        text = carry + block
        cut = text.rfind("\n") + 1
        text, carry = text[:cut], text[cut:]
        if '"' in text or text.count("\r") != text.count("\r\n"):
            break
        data = np.frombuffer(text.encode(), dtype=np.uint8)
        commas = np.concatenate(([0], np.cumsum(data == ord(","), dtype=np.int64)))
        line_ends = np.flatnonzero(data == ord("\n")) + 1
        per_line = np.diff(commas[np.concatenate(([0], line_ends))])
        if (per_line != width - 1).any():
            return False
    else:
        if not carry:
            return True
        if '"' not in carry and "\r" not in carry:
            return carry.count(",") == width - 1
    handle.seek(0)
    return all(len(row) == width for row in csv.reader(handle))
