"""Reading import files in chunks: CSV (UTF-8, UTF-8 with BOM, GBK) and .xlsx.

Every value comes out as a stripped string ("" when empty) so that one validator serves both
formats; each chunk carries the file's row numbers (the header is row 1, as in a spreadsheet).

A file is measured before it is parsed: at most MAX_COLUMNS columns, lines of at most
MAX_LINE_BYTES and values of at most MAX_CELL_CHARS, so a small hostile file cannot make the parser
spend minutes or gigabytes; text that is neither UTF-8 nor GBK/GB18030 is refused with the
encoding it most likely is (charset-normalizer). Whatever a message quotes from a file goes
through `clip`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

CHUNK_ROWS = 100_000
ROW = "__row"  # the column holding each row's number in the file
MAX_COLUMNS = 200  # the widest format has 16 columns
MAX_LINE_BYTES = 64 * 1024
MAX_CELL_CHARS = 4096
ECHO_CHARS = 120  # the most of one value a message quotes
SNIFF_BYTES = 1 << 20  # how much of a non-UTF-8 file the encoding detector reads
GB_FAMILY = ("gb18030", "gbk", "gb2312", "hz")  # what Chinese Excel exports in
ENCODING_NAMES = {"cp932": "Shift_JIS (cp932)", "shift_jis": "Shift_JIS", "big5": "Big5",
                  "big5hkscs": "Big5-HKSCS", "cp949": "EUC-KR (cp949)", "euc_kr": "EUC-KR",
                  "euc_jp": "EUC-JP", "euc_jis_2004": "EUC-JP", "cp1252": "Windows-1252",
                  "latin_1": "Latin-1", "utf_16": "UTF-16", "utf_16_le": "UTF-16LE",
                  "utf_16_be": "UTF-16BE", "cp1251": "Windows-1251"}


def clip(value: object, limit: int = ECHO_CHARS) -> str:
    """The value as text, cut to `limit` characters with an ellipsis when longer."""
    text_ = str(value)
    return text_ if len(text_) <= limit else text_[:limit - 1] + "…"


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
    """Tell the file's text encoding: UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK).

    Text that is not UTF-8 and does not look like GBK/GB18030 (Big5, Shift_JIS, ...: GB18030
    decodes almost any bytes, into garbage) is refused naming the encoding it most likely is.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise FileProblem("the file is UTF-16 text; save it as UTF-8 (or GBK) CSV")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return _not_utf8(path)
    return "utf-8"


def _not_utf8(path: Path) -> str:
    from charset_normalizer import from_bytes

    with open(path, "rb") as f:
        sample = f.read(SNIFF_BYTES)
    if len(sample) == SNIFF_BYTES:  # do not judge a character cut in half
        sample = sample[:sample.rfind(b"\n") + 1] or sample
    matches = list(from_bytes(sample))
    if not matches:
        raise FileProblem("the file is not text in a known encoding (neither UTF-8 nor GBK)")
    best = min(m.chaos for m in matches)
    # Short Chinese samples are ambiguous between close encodings; GB counts as found when it is
    # among the candidates that read the sample (about) as cleanly as the best one.
    if any(m.encoding in GB_FAMILY and m.chaos <= best + 0.02 for m in matches):
        return "gb18030"
    likely = [ENCODING_NAMES.get(m.encoding, m.encoding) for m in matches[:2]]
    raise FileProblem(f"the file is neither UTF-8 nor GBK text: it looks like "
                      f"{' or '.join(dict.fromkeys(likely))}; save it as UTF-8 (or GBK) CSV")


def check_lines(path: Path) -> None:
    """Refuse a CSV with a line longer than MAX_LINE_BYTES, reading in bounded steps."""
    with open(path, "rb") as f:
        for number, line in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), start=1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                raise FileProblem(f"line {number} is longer than {MAX_LINE_BYTES // 1024} KB; "
                                  "this is not one of the import formats")


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
        if not self.xlsx:
            check_lines(self.path)
        self.encoding = None if self.xlsx else csv_encoding(self.path)
        self.header = self._read_header()
        if not any(self.header):
            raise FileProblem("the file is empty: the first row must name the columns")
        if len(self.header) > MAX_COLUMNS:
            raise FileProblem(f"the header names {len(self.header)} columns; an import file has "
                              f"at most {MAX_COLUMNS}")
        long = next((n for n in self.header if len(n) > ECHO_CHARS), None)
        if long is not None:
            raise FileProblem(f"a column name is longer than {ECHO_CHARS} characters: '{clip(long)}'")
        twice = sorted(n for n, k in Counter(self.header).items() if k > 1)
        if twice:
            raise FileProblem(clip(f"column(s) named twice in the header: {', '.join(twice)}", 400))

    def _read_header(self) -> list[str]:
        if self.xlsx:
            sheet, book = self._sheet()
            try:
                first = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS + 1, values_only=True),
                             ())
            finally:
                book.close()
            names = list(first)
            if any(v is not None for v in names[MAX_COLUMNS:]):
                raise FileProblem(f"the header names more than {MAX_COLUMNS} columns; an import "
                                  f"file has at most {MAX_COLUMNS}")
            names = names[:MAX_COLUMNS]
            while names and names[-1] is None:  # iter_rows pads a short row up to max_col
                names.pop()
            return normal_header(names)
        try:
            with open(self.path, encoding=self.encoding, newline="") as f:
                line = f.readline()
        except UnicodeDecodeError as exc:
            raise FileProblem("the file is neither UTF-8 nor GBK text") from exc
        return normal_header(next(csv.reader(io.StringIO(line), skipinitialspace=True), [])) \
            if line.strip() else []

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
                    _check_cells(frame)
                    yield _drop_empty(frame, strip=False)
        except pd.errors.ParserError as exc:
            raise FileProblem(clip(f"the CSV is malformed: {exc}".strip(), 300)) from exc
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
                for name, cell in zip(self.header, cells, strict=False):
                    if len(cell) > MAX_CELL_CHARS:
                        raise _too_long(number, name, cell)
                rows.append([number, *cells, *[""] * (width - len(cells))])
                if len(rows) >= self.chunk_rows:
                    yield _drop_empty(pd.DataFrame(rows, columns=[ROW, *self.header]))
                    rows = []
            if rows:
                yield _drop_empty(pd.DataFrame(rows, columns=[ROW, *self.header]))
        finally:
            book.close()


def _check_cells(frame: pd.DataFrame) -> None:
    """Refuse a chunk holding a value longer than MAX_CELL_CHARS (no format has one)."""
    for name in frame.columns.drop(ROW):
        lengths = frame[name].str.len()
        if lengths.max() > MAX_CELL_CHARS:
            at = lengths.idxmax()
            raise _too_long(int(frame.at[at, ROW]), name, frame.at[at, name])


def _too_long(row: int, column: str, value: str) -> FileProblem:
    return FileProblem(f"row {row}, column {clip(column)}: a value of {len(value)} characters "
                       f"('{clip(value, 40)}'); a value has at most {MAX_CELL_CHARS}")


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
