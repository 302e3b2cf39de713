"""The import report (导入报告): what a file held, what would be or was imported, and every problem.

A problem names the row (as the user sees it: the spreadsheet row, the CSV line, the feature
number of a GIS file; ``None`` for the file as a whole), the column, a machine-readable code and
a message in Chinese and English. Errors block the whole file; warnings do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from gis.errors import InvalidField

MAX_LISTED: Final = 1000
Progress = Callable[[str, int, int], None]


def no_progress(_stage: str, _done: int, _total: int) -> None:
    """The default progress callback: nothing."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a file (问题): where, what, in Chinese and English."""

    row: int | None
    column: str | None
    code: str
    problem_zh: str
    problem_en: str


@dataclass
class ImportReport:
    """Everything an import (or its dry run) found and did."""

    filename: str
    format: str
    sha256: str
    dry_run: bool
    rows: int = 0
    would_create: int = 0
    created: int = 0
    unchanged: int = 0
    approximate: int = 0
    batch_id: int | None = None
    crs: dict[str, str | None] = field(default_factory=dict)
    encoding: str | None = None
    layers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import."""
        return not self.errors

    def error(self, row: int | None, column: str | None, code: str, zh: str, en: str) -> None:
        """Record a blocking problem."""
        self.errors.append(Issue(row, column, code, zh, en))

    def warn(self, row: int | None, column: str | None, code: str, zh: str, en: str) -> None:
        """Record a problem that does not block the import."""
        self.warnings.append(Issue(row, column, code, zh, en))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, errors and warnings sorted by row and capped at ``MAX_LISTED`` each."""
        out = asdict(self)
        for key in ("errors", "warnings"):
            issues = sorted(getattr(self, key), key=lambda i: (i.row is not None, i.row or 0, i.column or ""))
            out[key] = [asdict(i) for i in issues[:MAX_LISTED]]
            out[f"{key}_total"] = len(issues)
        return out | {"ok": self.ok}


class ImportRejected(InvalidField):
    """A file that cannot be imported (文件无法导入); the report lists every problem (422)."""

    title = "Import rejected"

    def __init__(self, report: ImportReport) -> None:
        n = len(report.errors)
        first = report.errors[0] if report.errors else None
        where_zh = f"（第 {first.row} 行）" if first and first.row else ""
        where_en = f" (row {first.row})" if first and first.row else ""
        zh = first.problem_zh.rstrip("。") if first else ""
        en = first.problem_en.rstrip(".") if first else ""
        super().__init__(
            "file",
            f"文件未导入：发现 {n} 个问题，例如{where_zh}：{zh}。请修改后重新上传，导入前不会写入任何数据。",
            f"Nothing was imported: {n} problem(s) found, e.g.{where_en}: {en}. "
            "Fix them and upload again; nothing is written until the whole file is valid.",
            report=report.as_dict(),
        )
        self.report = report


class BadFile(InvalidField):
    """A file that cannot be read at all (文件无法读取): corrupt, too big, wrong type (422)."""

    title = "Unreadable file"

    def __init__(self, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__("file", zh, en, reason=code, **extra)
        self.code = code
