"""Sample case histories (案件流转样例): events that follow the lifecycle up to "now".

Each case walks 上报 → 立案 → 派遣 → 处置 → 处置完毕 → 结案, with the detours practice adds
(不予立案, 核查不通过, 挂账) and some cases stuck so that they run past their deadline. No event
lies after ``now``; a case simply stops where the clock stops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from data.places import offset


@dataclass
class SampleEvent:
    """One lifecycle step of a sample case."""

    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    position: Point | None = None
    accuracy_m: float | None = None
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Actors:
    """Who acts on a case (示例账号): grid manager, inspector and the dispatched unit."""

    grid_manager: str
    inspector: str
    assignee_unit: str
    assignee: str


class Timeline:
    """Builds a case's events step by step; ``step`` refuses anything after ``now``."""

    def __init__(self, rng: np.random.Generator, now: datetime, reported_at: datetime) -> None:
        self.rng = rng
        self.now = now
        self.t = reported_at
        self.status = "reported"
        self.events: list[SampleEvent] = []
        self.deadline: date | None = None

    def hours(self, low: float, high: float) -> timedelta:
        """A random span between ``low`` and ``high`` hours."""
        return timedelta(hours=float(self.rng.uniform(low, high)))

    def step(self, wait: timedelta, action: str, to: str, actor: str, **extra: Any) -> bool:
        """Append the event ``wait`` after the last one, unless that is in the future."""
        at = self.t + wait
        if at > self.now:
            return False
        self.events.append(SampleEvent(action, self.status, to, actor, at, **extra))
        self.t, self.status = at, to
        return True


def _close_position(rng: np.random.Generator, geom: BaseGeometry) -> Point:
    anchor = nearest_points(geom, geom.centroid)[0]
    return offset(anchor, float(rng.normal(0, 12)), float(rng.normal(0, 12)))


def _fix(tl: Timeline, who: Actors, geom: BaseGeometry, on_time: bool) -> bool:
    """处置 → 处置完毕 → 核查: returns False when the clock stopped it."""
    if not tl.step(tl.hours(2, 72), "start", "in_progress", who.assignee, note="已开始处置"):
        return False
    assert tl.deadline is not None
    deadline_at = datetime.combine(tl.deadline, datetime.min.time(), tl.t.tzinfo) + timedelta(hours=17)
    budget = max((deadline_at - tl.t).total_seconds() / 3600.0, 2.0)
    work = tl.hours(1, budget) if on_time else tl.hours(budget + 24, budget + 240)
    if not tl.step(work, "resolve", "resolved", who.assignee, note="已处置完毕，附整改后照片"):
        return False
    position = _close_position(tl.rng, geom)
    accuracy = round(float(tl.rng.uniform(3, 15)), 1)
    return tl.step(tl.hours(3, 60), "close", "closed", who.inspector, position=position,
                   accuracy_m=accuracy, note="现场核查合格，予以销号")  # fmt: skip


def simulate(tl: Timeline, who: Actors, geom: BaseGeometry, deadline_days: int, *, kind: str = "normal") -> None:
    """Walk a freshly reported case through its lifecycle until done or stopped by ``now``."""
    rng = tl.rng
    if not tl.step(tl.hours(1, 40), "register", "registered", who.inspector, note="核实立案"):
        return
    if kind == "normal" and rng.random() < 0.05:
        tl.step(tl.hours(0, 2), "reject", "rejected", who.inspector, note="重复上报，不予立案")
        return
    tl.deadline = (tl.t + timedelta(days=deadline_days)).date()
    data = {"deadline": tl.deadline.isoformat(), "assignee_unit": who.assignee_unit}
    if not tl.step(tl.hours(1, 24), "assign", "assigned", who.inspector, data=data):
        return
    if kind == "water" and rng.random() < 0.15:
        review = (tl.t + timedelta(days=90)).date().isoformat()
        tl.step(tl.hours(24, 240), "suspend", "suspended", who.inspector,
                note="需结合截污控源工程整治，暂挂账", data={"review_on": review})  # fmt: skip
        return
    if kind == "normal" and rng.random() < 0.07:
        return  # stuck with the assignee: runs past its deadline
    on_time = kind == "campaign" or rng.random() < 0.8
    _fix(tl, who, geom, on_time)
    if tl.status == "closed" and kind == "normal" and rng.random() < 0.08:
        _undo_close_as_return(tl, who, geom)


def _undo_close_as_return(tl: Timeline, who: Actors, geom: BaseGeometry) -> None:
    """Replace the last close with 核查不通过 and a second round of work."""
    close = tl.events.pop()
    tl.t, tl.status = close.at - timedelta(hours=1), "resolved"
    tl.step(timedelta(minutes=30), "return", "assigned", who.inspector,
            note="核查不通过：现场仍有残留，请重新处置")  # fmt: skip
    _fix(tl, who, geom, on_time=True)
