"""Domain errors (业务错误): what went wrong and how to fix it, in Chinese and English.

Nothing here knows HTTP; ``api/errors.py`` maps each class to a status code in one table.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a message a person can act on, Chinese first, plus machine-readable extras."""

    title = "Domain error"

    def __init__(self, detail_zh: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_en)
        self.detail_zh = detail_zh
        self.detail_en = detail_en
        self.extra = extra


class NotFound(DomainError):
    """The thing named in the path does not exist (不存在)."""

    title = "Not found"


class InvalidParameter(DomainError):
    """A query parameter is malformed or names something unknown (参数错误)."""

    title = "Invalid parameter"

    def __init__(self, parameter: str, detail_zh: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_zh, detail_en, parameter=parameter, **extra)


class InvalidGeometry(DomainError):
    """A geometry that cannot be stored (几何无效): invalid, out of range, wrong type or CRS."""

    title = "Invalid geometry"


class Conflict(DomainError):
    """The request conflicts with the current state (冲突), e.g. a stale version."""

    title = "Conflict"


class StorageRefused(DomainError):
    """The database refused a write because a rule in the schema forbids it (数据库拒绝)."""

    title = "Refused by the database"


class InvalidField(DomainError):
    """A field of a request body is missing or wrong (字段错误); carries the field name."""

    title = "Invalid field"

    def __init__(self, field: str, detail_zh: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_zh, detail_en, field=field, **extra)


class CloseoutRefused(DomainError):
    """An on-site close-out the rules refuse (结案被拒): too far, too inaccurate, water not clean."""

    title = "Close-out refused"


class NotAuthenticated(DomainError):
    """No valid credentials (未登录或令牌无效)."""

    title = "Not authenticated"


class Forbidden(DomainError):
    """The caller's role may not do this at all (无权操作)."""

    title = "Forbidden"


class PreconditionRequired(DomainError):
    """A write that must say which version it changes (缺少版本号)."""

    title = "Precondition required"


class TooManyRequests(DomainError):
    """Too many anonymous reports from one client (上报过于频繁)."""

    title = "Too many requests"


def unknown(parameter: str, value: str, what_zh: str, what_en: str) -> InvalidParameter:
    """The common case: a filter names an area, category or status that does not exist."""
    return InvalidParameter(
        parameter,
        f"参数 {parameter}：未知的{what_zh}“{value}”，请检查拼写或先查询可用的取值。",
        f"{parameter}: unknown {what_en} '{value}'; check the spelling or list the valid values.",
        value=value,
    )


class PhotoRejected(DomainError):
    """An uploaded photo the store refuses (照片被拒收); ``reason`` says why, for clients to branch on.

    Reasons: ``empty``, ``too_large``, ``too_many_pixels``, ``unsupported_type``, ``corrupt``.
    """

    title = "Photo rejected"

    def __init__(self, reason: str, detail_zh: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_zh, detail_en, reason=reason, **extra)
        self.reason = reason
