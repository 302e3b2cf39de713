"""CQL2 filter text or JSON to its JSON tree (CQL2 解析), with the guards a bomb meets first.

The ``cql2`` library parses; before it sees a text filter, deep brackets and long NOT/minus chains
are refused (its parser recurses on the native stack), and after it the tree's depth and size are
bounded. ``gis.ogc.cql`` translates the tree into SQL.
"""

from __future__ import annotations

import re
from typing import Any, Final

import cql2

from gis.errors import InvalidParameter

LANGS: Final = {"cql2-text": "text", "cql-text": "text", "cql2-json": "json", "cql-json": "json"}
MAX_FILTER_CHARS: Final = 20_000
MAX_FILTER_DEPTH: Final = 32
MAX_FILTER_NODES: Final = 2_000
_QUOTED: Final = re.compile(r"'(?:[^']|'')*'")
_PREFIX_CHAIN: Final = re.compile(r"(?:(?:\bNOT\b|[-+])\s*){" + str(MAX_FILTER_DEPTH) + ",}", re.IGNORECASE)


def bad_filter(zh: str, en: str, **extra: Any) -> InvalidParameter:
    """A filter the server refuses, with what to change (过滤条件错误)."""
    return InvalidParameter("filter", f"过滤条件 filter 无效：{zh}", f"The filter is invalid: {en}", **extra)


def parse_filter(raw: str, lang: str | None) -> dict[str, Any] | Any:
    """The CQL2 JSON tree of a ``filter`` in ``filter-lang`` (default cql2-text; cql-text is an alias)."""
    kind = LANGS.get((lang or "cql2-text").lower())
    if kind is None:
        raise InvalidParameter(
            "filter-lang",
            f"不支持的 filter-lang“{lang}”，可用：cql2-text、cql2-json（cql-text 视同 cql2-text）。",
            f"Unsupported filter-lang '{lang}'; use cql2-text or cql2-json (cql-text is taken as cql2-text).",
            value=lang,
        )
    if len(raw) > MAX_FILTER_CHARS:
        raise bad_filter(
            f"过长（最多 {MAX_FILTER_CHARS} 字符）。", f"too long (at most {MAX_FILTER_CHARS} characters)."
        )
    if kind == "text":
        check_text_nesting(raw)
    try:
        expr = cql2.parse_text(raw) if kind == "text" else cql2.parse_json(raw)
        tree = expr.to_json()
    except (cql2.ParseError, cql2.ValidationError, ValueError, RecursionError) as exc:
        message = " ".join(str(exc).split())[:400]
        raise bad_filter(f"无法解析（{message}）。请检查语法。", f"it cannot be parsed ({message}).") from None
    check_filter_size(tree)
    return tree


def _too_complex() -> InvalidParameter:
    return bad_filter(
        f"过于复杂（嵌套最多 {MAX_FILTER_DEPTH} 层、最多 {MAX_FILTER_NODES} 个部分）。"
        "请拆分或简化条件，多个取值请用 IN (…)。",
        f"too complex (at most {MAX_FILTER_DEPTH} levels of nesting and {MAX_FILTER_NODES} parts). "
        "Split or simplify it; for many values use IN (…).",
    )


def check_text_nesting(raw: str) -> None:
    """Refuse deep brackets or long NOT/minus chains *before* the parser sees them: the ``cql2`` parser
    recurses on the native stack and a few thousand levels crash the whole process (嵌套炸弹)."""
    unquoted = _QUOTED.sub("''", raw)
    depth = deepest = 0
    for char in unquoted:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > 2 * MAX_FILTER_DEPTH or _PREFIX_CHAIN.search(unquoted):
        raise _too_complex()


def check_filter_size(tree: Any) -> None:
    """Refuse a filter nested deeper than MAX_FILTER_DEPTH or with more than MAX_FILTER_NODES parts
    (过滤条件过于复杂): a bomb must get a 400 at once, not a stack overflow or a slow plan."""
    stack: list[tuple[Any, int]] = [(tree, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_FILTER_DEPTH or nodes > MAX_FILTER_NODES:
            raise _too_complex()
        children = node.get("args", []) if isinstance(node, dict) and "op" in node else node  # not geometries
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in children)
