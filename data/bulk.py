"""Fast bulk loading of DataFrames: COPY on PostgreSQL, one executemany per chunk on SQLite.

The frames must already hold storage-ready values: dates as 'YYYY-MM-DD' strings, timestamps as
'YYYY-MM-DD HH:MM:SS.ffffff' strings (SQLAlchemy's SQLite format, also valid PostgreSQL input),
None/NA for NULL.

For PostgreSQL a frame can also be encoded ahead (`encode_copy`, e.g. in another process while
this one copies) and copied later (`copy_encoded`). Frames of fixed-width columns only (integers,
floats, dates, timestamps, numerics with a scale, strings all of one length, no NULLs: the
demo's daily facts) are encoded in COPY's binary format, built column-wise with numpy (about 20x
faster than writing text, and cheaper for the server to read); any other frame as text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, types

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"
_EPOCH_DAY = np.datetime64("2000-01-01", "D")
_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us")
_NUMERIC_LIMIT = 10**12  # four base-10000 digits with a scale of 2: below a trillion


@dataclass(frozen=True)
class Encoded:
    """A frame ready for `copy_encoded`: COPY data in text or binary format."""

    columns: tuple[str, ...]
    data: bytes
    binary: bool
    rows: int


def bulk_insert(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """Append the rows of `frame` to `table` inside the connection's transaction; return the count."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, _text(frame), binary=False)
    else:
        rows = list(zip(*(_column_values(frame[c]) for c in columns), strict=True))
        marks = ", ".join("?" for _ in columns)
        cursor = conn.connection.cursor()
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        cursor.close()
    return len(frame)


def encode_copy(table: Table, frame: pd.DataFrame) -> Encoded:
    """Encode `frame`'s rows for PostgreSQL's COPY into `table` (binary where it can)."""
    columns = tuple(frame.columns)
    data = _binary(table, frame)
    if data is None:
        return Encoded(columns, _text(frame).encode(), False, len(frame))
    return Encoded(columns, data, True, len(frame))


def copy_encoded(conn: Connection, table: str, encoded: Encoded) -> int:
    """COPY rows encoded by `encode_copy` into `table` (PostgreSQL); return the count."""
    if encoded.rows:
        _copy(conn, table, list(encoded.columns), encoded.data, binary=encoded.binary)
    return encoded.rows


def _column_values(series: pd.Series) -> list:
    # tolist() turns numpy scalars into Python ones, which sqlite3 requires.
    if series.hasnans:
        return [None if pd.isna(v) else v for v in series.astype(object).tolist()]
    return series.tolist()


def _text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")
    return buffer.getvalue()


def _copy(conn: Connection, table: str, columns: list[str], data: str | bytes,
          binary: bool) -> None:
    options = " WITH (FORMAT binary)" if binary else ""
    cursor = conn.connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{options}") as copy:  # type: ignore[attr-defined]
        copy.write(data)
    cursor.close()


def _binary(table: Table, frame: pd.DataFrame) -> bytes | None:
    """The frame in COPY's binary format, or None if a column is not fixed-width or holds NULLs."""
    n = len(frame)
    fields: list[tuple] = [("count", ">i2")]
    values: dict[str, np.ndarray] = {}
    for k, name in enumerate(frame.columns):
        series = frame[name]
        if series.hasnans:
            return None
        encoded = _fixed(table.c[name].type, series)
        if encoded is None:
            return None
        fields += [(f"len{k}", ">i4"), (f"v{k}", encoded.dtype, encoded.shape[1:])]
        values[f"v{k}"] = encoded
    rows = np.empty(n, dtype=fields)
    rows["count"] = len(frame.columns)
    for k in range(len(frame.columns)):
        v = values[f"v{k}"]
        rows[f"len{k}"] = v.dtype.itemsize * int(np.prod(v.shape[1:], dtype=np.int64))
        rows[f"v{k}"] = v
    return _HEADER + rows.tobytes() + _TRAILER


def _fixed(kind: types.TypeEngine, series: pd.Series) -> np.ndarray | None:
    """One column as big-endian fixed-width values in PostgreSQL's binary format, or None."""
    values = series.to_numpy()
    if isinstance(kind, types.Boolean):
        return values.astype(">i1") if values.dtype.kind in "bi" else None
    if isinstance(kind, types.SmallInteger):
        return values.astype(">i2") if values.dtype.kind in "iu" else None
    if isinstance(kind, types.BigInteger):
        return values.astype(">i8") if values.dtype.kind in "iu" else None
    if isinstance(kind, types.Integer):
        return values.astype(">i4") if values.dtype.kind in "iu" else None
    if isinstance(kind, types.Float):
        return values.astype(">f8") if values.dtype.kind in "iuf" else None
    if isinstance(kind, types.Numeric):
        return _numeric(values, kind.scale) if values.dtype.kind in "iuf" else None
    if isinstance(kind, types.DateTime):
        if values.dtype.kind not in "OU":
            return None
        stamps = np.asarray(values, dtype="U26").astype("datetime64[us]")
        return (stamps - _EPOCH_US).astype(">i8")
    if isinstance(kind, types.Date):
        if values.dtype.kind not in "OU":
            return None
        return (np.asarray(values, dtype="U10").astype("datetime64[D]") - _EPOCH_DAY).astype(">i4")
    if isinstance(kind, types.String) and values.dtype.kind in "OU":
        raw = np.char.encode(np.asarray(values, dtype=str), "utf-8")
        lengths = np.char.str_len(raw)
        if len(raw) and (lengths != lengths[0]).any() or not len(raw) or lengths[0] == 0:
            return None
        return raw.view(np.uint8).reshape(len(raw), -1).astype(np.uint8)
    return None


def _numeric(values: np.ndarray, scale: int | None) -> np.ndarray | None:
    """NUMERIC(p, 2) values as (ndigits 4, weight 2, sign, dscale 2, four base-10000 digits)."""
    if scale != 2:
        return None
    cents = np.rint(values.astype(np.float64) * 100).astype(np.int64)
    magnitude = np.abs(cents)
    if len(cents) and magnitude.max() >= _NUMERIC_LIMIT * 100:
        return None
    whole, frac = magnitude // 100, magnitude % 100
    out = np.empty((len(cents), 8), dtype=">i2")
    out[:, 0], out[:, 1], out[:, 3] = 4, 2, 2
    out[:, 2] = np.where(cents < 0, 0x4000, 0)
    out[:, 4] = whole // 10**8
    out[:, 5] = (whole // 10**4) % 10**4
    out[:, 6] = whole % 10**4
    out[:, 7] = frac * 100
    return out
