"""Fast bulk loading of DataFrames: COPY on PostgreSQL, one executemany per chunk on SQLite.

The frames must already hold storage-ready values: dates as 'YYYY-MM-DD' strings, timestamps as
'YYYY-MM-DD HH:MM:SS.ffffff' strings (SQLAlchemy's SQLite format, also valid PostgreSQL input),
None/NA for NULL.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Connection


def bulk_insert(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """Append the rows of `frame` to `table` inside the connection's transaction; return the count."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    if conn.dialect.name == "postgresql":
        _copy_postgres(conn, table, columns, frame)
    else:
        rows = list(zip(*(_column_values(frame[c]) for c in columns), strict=True))
        marks = ", ".join("?" for _ in columns)
        cursor = conn.connection.cursor()
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        cursor.close()
    return len(frame)


def _column_values(series: pd.Series) -> list:
    # tolist() turns numpy scalars into Python ones, which sqlite3 requires.
    if series.hasnans:
        return [None if pd.isna(v) else v for v in series.astype(object).tolist()]
    return series.tolist()


def _copy_postgres(conn: Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")
    cursor = conn.connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        copy.write(buffer.getvalue())
    cursor.close()
