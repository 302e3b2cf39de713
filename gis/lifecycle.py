"""Lifecycle vocabularies (案件、项目、设施状态) with their Chinese and English labels.

Problems follow GB/T 30428 (受理 立案 派遣 处置 核查 结案); projects are planned and built;
facilities are kept working. The transitions themselves come with the lifecycle issue.
"""

from __future__ import annotations

from typing import Final

CASE_STATUSES: Final[dict[str, tuple[str, str]]] = {
    "reported": ("已上报", "reported"),
    "registered": ("已立案", "registered"),
    "assigned": ("已派遣", "assigned"),
    "in_progress": ("处置中", "in progress"),
    "resolved": ("处置完毕待核查", "resolved, awaiting check"),
    "closed": ("已结案销号", "closed"),
    "rejected": ("不予立案", "rejected"),
    "suspended": ("挂账", "suspended"),
}

#: Cases still on somebody's desk: shown on patrol maps (未结案).
OPEN_STATUSES: Final[tuple[str, ...]] = (
    "reported",
    "registered",
    "assigned",
    "in_progress",
    "resolved",
    "suspended",
)

#: Overdue (逾期) = past the deadline day and not closed (nor rejected, which ends a case too).
RUNNING_STATUSES: Final[tuple[str, ...]] = OPEN_STATUSES

PROJECT_STATUSES: Final[dict[str, tuple[str, str]]] = {
    "planned": ("计划", "planned"),
    "tendering": ("招标中", "tendering"),
    "under_construction": ("在建", "under construction"),
    "completed": ("完工", "completed"),
    "accepted": ("已验收", "accepted"),
}

FACILITY_STATES: Final[dict[str, tuple[str, str]]] = {
    "planned": ("规划", "planned"),
    "built": ("已建成", "built"),
    "working": ("运行正常", "working"),
    "broken": ("故障", "broken"),
}

EVENT_ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "report": ("上报", "report"),
    "register": ("立案", "register"),
    "assign": ("派遣", "assign"),
    "start": ("开始处置", "start"),
    "resolve": ("处置完毕", "resolve"),
    "close": ("结案销号", "close"),
    "return": ("核查不通过", "return after check"),
    "reject": ("不予立案", "reject"),
    "hand_back": ("退单", "hand back"),
    "extend": ("延期", "extend"),
    "suspend": ("挂账", "suspend"),
    "reopen": ("反弹", "reopen"),
    "attach_photos": ("补充照片", "attach photos"),
    "erase_reporter": ("删除上报人信息", "erase reporter data"),
}


def labels_zh(vocabulary: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Code → Chinese label, to hand to SQL as one bound JSON parameter."""
    return {code: zh for code, (zh, _en) in vocabulary.items()}
