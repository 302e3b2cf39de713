"""Reading tables (读取表格): CSV with lon/lat and the Excel rectification ledger (整改台账).

CSV is UTF-8 (with or without BOM) or, as Excel saves it on Chinese Windows, GBK/GB18030; the
delimiter is a comma, tab or semicolon. In a workbook the header row is found among the first ten
rows of the first sheet that has one (a ledger usually has a title above it), by the number of
column names it recognises. Row numbers are those the user sees: the CSV line, the sheet row.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import load_workbook  # type: ignore[import-untyped]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from gis.gisio.fields import match_columns
from gis.gisio.readers import SourceTable
from gis.gisio.report import BadFile

HEADER_SCAN = 10


def _decode(data: bytes, label: str) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), "UTF-8" if encoding == "utf-8-sig" else "GB18030"
        except UnicodeDecodeError:
            continue
    raise BadFile(
        "encoding",
        f"“{label}”既不是 UTF-8 也不是 GBK 编码，请另存为 UTF-8 CSV。",
        f"'{label}' is neither UTF-8 nor GBK; save it as UTF-8 CSV.",
    )


def _table(header: list[str], body: list[tuple[int, list[Any]]], encoding: str | None) -> SourceTable:
    columns = [str(h).strip() if h is not None and str(h).strip() else f"列{i + 1}" for i, h in enumerate(header)]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise BadFile(
            "duplicate_columns", f"表头有重名的列：{'、'.join(dupes)}。", f"Duplicate column names: {', '.join(dupes)}."
        )
    values = {c: np.empty(len(body), dtype=object) for c in columns}
    for i, (_line, cells) in enumerate(body):
        for c, value in zip(columns, cells, strict=False):
            values[c][i] = _clean(value)
    rows = np.array([line for line, _ in body], dtype=np.int64)
    return SourceTable(columns, values, None, rows, None, [], encoding)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
            value = value[1:]  # written defused by our CSV export (CSV injection)
        value = value.strip()
        return value or None
    return value


def read_csv(path: Path, label: str) -> SourceTable:
    """A CSV file as a table (the header is its first line)."""
    text, encoding = _decode(path.read_bytes(), label)
    if "\x00" in text:
        raise BadFile(
            "corrupt", f"“{label}”含有二进制内容，不是文本 CSV。", f"'{label}' has binary content; it is not a CSV."
        )
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
        body = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (StopIteration, csv.Error) as exc:
        raise BadFile("corrupt", f"无法解析 CSV“{label}”：{exc}", f"Cannot parse the CSV '{label}': {exc}") from None
    widths = {len(r) for _, r in body}
    if body and max(widths) > len(header):
        line = next(n for n, r in body if len(r) > len(header))
        raise BadFile(
            "ragged",
            f"CSV 第 {line} 行的列数多于表头（可能缺少引号）。",
            f"Line {line} of the CSV has more cells than the header (missing quotes?).",
            row=line,
        )
    return _table(header, body, encoding)


def _header_row(rows: list[tuple[Any, ...]]) -> int | None:
    best, best_count = None, 1
    for index, row in enumerate(rows[:HEADER_SCAN]):
        names = [str(v) for v in row if v is not None]
        count = len(match_columns(names)[0])
        if count > best_count:
            best, best_count = index, count
    return best


def read_xlsx(path: Path, label: str) -> SourceTable:
    """The first sheet with a recognisable header row, as a table (rows numbered as in Excel)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
            sheets = [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
            wb.close()
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BadFile(
            "corrupt",
            f"无法打开工作簿“{label}”：文件已损坏或不完整（{exc}）。",
            f"Cannot open the workbook '{label}': it is corrupt or truncated ({exc}).",
        ) from None
    for rows in sheets:
        header = _header_row(rows)
        if header is None:
            continue
        body = [
            (header + 2 + i, list(r))
            for i, r in enumerate(rows[header + 1 :])
            if any(v is not None and str(v).strip() for v in r)
        ]
        return _table(list(rows[header]), body, None)
    raise BadFile(
        "missing_columns",
        "工作簿前 10 行里找不到表头（如 编号、问题类型、经度、纬度、村）。",
        "No header row (e.g. 编号, 问题类型, 经度, 纬度, 村) in the first ten rows of any sheet.",
    )
