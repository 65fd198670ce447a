"""Reading import files in chunks: CSV (UTF-8, UTF-8 with BOM, GBK) and .xlsx.

Every value comes out as a stripped string ("" when empty) so that one validator serves both
formats; each chunk carries the file's row numbers (the header is row 1, as in a spreadsheet).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

CHUNK_ROWS = 100_000
ROW = "__row"  # the column holding each row's number in the file


class FileProblem(Exception):
    """The file cannot be read as a table at all (wrong format, encoding or shape)."""


def file_digest(path: Path) -> str:
    """Return the SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_encoding(path: Path) -> str:
    """Tell the file's text encoding: UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK)."""
    with open(path, "rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def normal_header(names: list) -> list[str]:
    """Lower-case, trimmed column names with inner spaces as underscores."""
    return [re.sub(r"\s+", "_", str(n if n is not None else "").replace("\ufeff", "").strip().lower())
            for n in names]


def is_xlsx(path: Path) -> bool:
    """Tell whether the file is an Excel workbook (a zip) rather than text."""
    with open(path, "rb") as f:
        return f.read(2) == b"PK"


class TableFile:
    """A CSV or xlsx file: its header and its rows in chunks of strings."""

    def __init__(self, path: Path, chunk_rows: int = CHUNK_ROWS) -> None:
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self.xlsx = is_xlsx(self.path)
        if self.path.suffix.lower() == ".xls" and not self.xlsx:
            raise FileProblem("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
        self.encoding = None if self.xlsx else csv_encoding(self.path)
        self.header = self._read_header()
        if not any(self.header):
            raise FileProblem("the file is empty: the first row must name the columns")
        twice = sorted({n for n in self.header if self.header.count(n) > 1})
        if twice:
            raise FileProblem(f"column(s) named twice in the header: {', '.join(twice)}")

    def _read_header(self) -> list[str]:
        if self.xlsx:
            sheet, book = self._sheet()
            try:
                first = next(sheet.iter_rows(max_row=1, values_only=True), ())
            finally:
                book.close()
            return normal_header(list(first))
        try:
            with open(self.path, encoding=self.encoding, newline="") as f:
                line = f.readline()
        except UnicodeDecodeError as exc:
            raise FileProblem("the file is neither UTF-8 nor GBK text") from exc
        return normal_header(next(iter(pd.read_csv(io.StringIO(line), header=None,
                                                   dtype=str, keep_default_na=False).values),
                                  [])) if line.strip() else []

    def _sheet(self):
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise FileProblem(f"not a readable .xlsx workbook ({exc})") from exc
        return book.worksheets[0], book

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the data rows as DataFrames of strings with the row number in column ROW."""
        yield from (self._xlsx_chunks() if self.xlsx else self._csv_chunks())

    def _csv_chunks(self) -> Iterator[pd.DataFrame]:
        try:
            with pd.read_csv(self.path, encoding=self.encoding, dtype=str, header=0,
                             names=self.header, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, skipinitialspace=True,
                             chunksize=self.chunk_rows) as reader:
                for frame in reader:
                    if not isinstance(frame.index, pd.RangeIndex):
                        # pandas makes extra values of the first data row an index
                        raise FileProblem("row 2 has more values than the header names columns")
                    frame.insert(0, ROW, frame.index + 2)
                    yield _drop_empty(frame, strip=False)
        except pd.errors.ParserError as exc:
            raise FileProblem(f"the CSV is malformed: {exc}".strip()) from exc
        except UnicodeDecodeError as exc:
            raise FileProblem("the file is neither UTF-8 nor GBK text") from exc

    def _xlsx_chunks(self) -> Iterator[pd.DataFrame]:
        sheet, book = self._sheet()
        width = len(self.header)
        try:
            rows: list[list] = []
            for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
                cells = [_cell(v) for v in values[:width]]
                if len(values) > width and any(_cell(v) for v in values[width:]):
                    raise FileProblem(f"row {number} has values beyond the named columns")
                rows.append([number, *cells, *[""] * (width - len(cells))])
                if len(rows) >= self.chunk_rows:
                    yield _drop_empty(pd.DataFrame(rows, columns=[ROW, *self.header]))
                    rows = []
            if rows:
                yield _drop_empty(pd.DataFrame(rows, columns=[ROW, *self.header]))
        finally:
            book.close()


def _drop_empty(frame: pd.DataFrame, strip: bool = True) -> pd.DataFrame:
    # CSV values keep trailing blanks (stripping a million rows costs seconds); validation retries
    # a value that fails without them.
    values = frame.drop(columns=ROW).fillna("").astype(str)
    if strip:
        values = values.apply(lambda s: s.str.strip())
    values[ROW] = frame[ROW].to_numpy()
    keep = (values.drop(columns=ROW) != "").any(axis=1)
    return values[keep]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
