"""Tables: dash-ag-grid, sortable and filterable, with a CSV export of what is shown."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_mantine_components as dmc

from components.grid_locale import grid_locale
from components.i18n import t

# Cells that a spreadsheet would run as a formula are exported as text (assets/dashAgGridFunctions.js).
SAFE_CELL = {"function": "csvSafeCell(params)"}


def size_to_content(columns: list[dict]) -> dict:
    """Grid options that make every column as wide as its widest cell and its header, so no text
    is cut ("2…", "在…") on a 1366 px screen, in a PDF or on a wall (a grid wider than its box
    scrolls sideways instead). Columns that wrap their text keep their width."""
    return {"autoSizeStrategy": {"type": "fitCellContents",
                                 "colIds": [c["field"] for c in columns if not c.get("wrapText")]},
            "suppressColumnVirtualisation": True}


def csv_export_params(name: str) -> dict:
    """Return a grid's CSV export settings: the file name and the formula-injection guard."""
    return {"fileName": f"{name}.csv", "processCellCallback": SAFE_CELL}


def grid(name: str, rows: list[dict], columns: list[dict], lang: str,
         row_id: str | None = None, height: str | None = None) -> dmc.Stack:
    """Return a grid and its 'Export CSV' button (the shell's callback does the export)."""
    options: dict = {"tooltipShowDelay": 300, **size_to_content(columns),
                     **grid_locale(lang)}
    if height is None:
        options["domLayout"] = "autoHeight"
    table = dag.AgGrid(
        id={"type": "csv-grid", "name": name}, rowData=rows, columnDefs=columns,
        getRowId=f"params.data.{row_id}" if row_id else None,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions=options,
        style={"height": height} if height else None,
        csvExportParams=csv_export_params(name))
    button = dmc.Button(t("export.csv", lang), id={"type": "csv", "name": name}, size="compact-xs",
                        variant="subtle")
    return dmc.Stack([dmc.Group([button], justify="flex-end", className="no-print"), table], gap=2)
