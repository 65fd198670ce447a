"""Loading real data: CSV (UTF-8, UTF-8 with BOM, GBK) and .xlsx extracts into the SQL store.

- `spec`: the documented formats, one per kind of data (`KINDS`), and guessing a file's kind;
- `read`: measuring files (width, line length, value size, encoding) and reading them in chunks
  of strings, with their row numbers;
- `validate`: checking every value and the rules between columns, chunk by chunk;
- `load`: `import_file`, the one transaction per file, its report and the import log;
- `staging`: the staging table and the SQL over it (duplicates, upserts, data-load log);
- `units`: organisation units (added under their parents, never moved);
- `correct`: deleting a unit subtree's facts over days (a mistaken load);
- `cli`: `flask --app app import-data FILE [--kind KIND] [--dry-run]`, `delete-data`, `import-log`.
"""

from jobs.ingest.load import ImportReport, import_file
from jobs.ingest.spec import KINDS

__all__ = ["KINDS", "ImportReport", "import_file"]
