"""Excel workbooks (Excel 表格) the way officials expect them: Chinese headers, frozen header rows,
column widths that fit, A4 landscape printing with the header repeated on every page.

Shared by the ledger (整改台账), the red-black list, the bulletin and the contractor scores. Sheets
are built in memory, or streamed (openpyxl's write-only mode) when they may be long.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "Microsoft YaHei"
_THIN = Side(style="thin", color="999999")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
PLAIN_FONT, BOLD_FONT = Font(name=FONT, size=10), Font(name=FONT, size=10, bold=True)
ALIGN, ALIGN_WRAP = Alignment(vertical="center"), Alignment(vertical="center", wrap_text=True)
RED_FILL = PatternFill("solid", fgColor="FDE2E1")
BLACK_FILL = PatternFill("solid", fgColor="E7E6E6")


def text_width(value: Any) -> float:
    """Display width of a value in Excel character units (CJK characters count two)."""
    text = "" if value is None else str(value)
    longest = max(text.split("\n"), key=len, default="")
    return sum(2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.1 for ch in longest)


def text_cell(ws: Any, value: Any) -> Any:
    """A cell whose text stays text: openpyxl would store a string starting with ``=`` as a formula."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def wrapped_height(values: Sequence[Any], widths: dict[int, float], wrap: Sequence[int]) -> float | None:
    """Row height (points) that shows every wrapped cell whole, or None for one line."""
    lines = max(
        (math.ceil(text_width(values[i - 1]) / max(widths[i] - 1, 1)) for i in wrap if values[i - 1]), default=1
    )
    return 14.0 * lines + 2 if lines > 1 else None


@dataclass
class Sheet:
    """A write-only sheet that remembers column widths as rows go by (表格)."""

    ws: Any
    widths: dict[int, float] = field(default_factory=dict)
    max_width: float = 60.0
    rows: int = 0

    def row(
        self,
        values: Sequence[Any],
        *,
        bold: bool = False,
        fill: PatternFill | None = None,
        wrap: Sequence[int] = (),
        height: float | None = None,
        border: bool = True,
    ) -> None:
        """Append one row of styled cells, widening columns to fit."""
        cells = []
        for i, value in enumerate(values, start=1):
            cell = text_cell(self.ws, value)
            cell.font = BOLD_FONT if bold else PLAIN_FONT
            cell.alignment = ALIGN_WRAP if i in wrap else ALIGN
            if border:
                cell.border = BORDER
            if fill is not None:
                cell.fill = fill
            cells.append(cell)
            self.widths[i] = max(self.widths.get(i, 4.0), min(text_width(value) + 2, self.max_width))
        self.append(cells, height)

    def append(self, cells: list[Any], height: float | None = None) -> None:
        """Append raw cells, counting rows (and setting the row height when given)."""
        self.rows += 1
        if height is not None:
            self.ws.row_dimensions[self.rows].height = height
        self.ws.append([c if not isinstance(c, str) or not c.startswith("=") else text_cell(self.ws, c) for c in cells])

    def title(self, text: str, note: str | None = None) -> None:
        """A title line (and an optional note line) above the table; not counted in widths."""
        cell = WriteOnlyCell(self.ws, value=text)
        cell.font = Font(name=FONT, bold=True, size=14)
        self.append([cell], 24)
        if note:
            small = WriteOnlyCell(self.ws, value=note)
            small.font = Font(name=FONT, size=9, color="555555")
            self.append([small])

    def finish(self, *, header_row: int, fixed: dict[int, float] | None = None) -> None:
        """Freeze everything above the data, fit the widths, set A4 landscape with repeated headers.

        A streamed (write-only) sheet writes its columns and panes before the first row: call
        :meth:`preset` then instead.
        """
        if not isinstance(self.ws, WriteOnlyWorksheet):
            self.preset(self.widths | (fixed or {}), header_row)
        setup_print(self.ws, header_row)

    def preset(self, widths: dict[int, float], header_row: int) -> None:
        """Column widths and frozen rows (before any row, for a streamed sheet)."""
        for i, width in widths.items():
            self.ws.column_dimensions[get_column_letter(i)].width = round(width, 1)
        self.ws.freeze_panes = f"A{header_row + 1}"


def setup_print(ws: Any, header_row: int) -> None:
    """A4 landscape, fit to one page wide, the header rows repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"1:{header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def new_workbook(*, streamed: bool = False) -> Workbook:
    """A workbook; ``streamed`` ones (write-only) keep only one row in memory at a time."""
    wb = Workbook(write_only=streamed)
    if not streamed:
        wb.remove(wb.active)
    return wb


def add_sheet(wb: Workbook, name: str, max_width: float = 60.0) -> Sheet:
    """A new sheet (Excel sheet names: at most 31 characters)."""
    return Sheet(wb.create_sheet(name[:31]), max_width=max_width)


def table(
    sheet: Sheet,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str,
    note: str | None = None,
    wrap: Sequence[int] = (),
) -> None:
    """A titled table: title, note, a bold header row, the rows; then frozen and fitted."""
    sheet.title(title, note)
    sheet.row(list(headers), bold=True, fill=HEADER_FILL, wrap=range(1, len(headers) + 1))
    for values in rows:
        sheet.row(list(values), wrap=wrap)
    sheet.finish(header_row=3 if note else 2)


def to_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes."""
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def percent(value: float | None) -> str:
    """A share as ``87.5%`` (``—`` when there is none)."""
    return "—" if value is None else f"{100 * value:.1f}%"
