"""Sample cases (样例案件): every problem category, spread the way the seeds describe them.

Garbage piles lie by roads, ditches and village edges (六堆、六边), ruined walls and dilapidated
houses among the houses, black-odorous water as ponds and ditch stretches. Cases of the last year
are in every lifecycle state, some overdue; 渠口乡's 2021 winter campaign (冬季战役) adds its weekly
walls and houses cleared per village. Deterministic for a given seed and ``now``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from shapely.geometry.base import BaseGeometry

from data.places import Placer, Village
from data.timeline import Actors, SampleEvent, Timeline, simulate
from data.units import assignee_unit_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMPAIGN_TOWNSHIP = "640221202"  # 渠口乡
SHOWCASE_GRID = "640221202204001"  # 金桥村第1网格
MIX = {"garbage_point": 0.38, "ruined_wall": 0.15, "dilapidated_house": 0.12,
       "black_odorous_water": 0.08, "agri_waste": 0.15, "household_toilet": 0.12}  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"


@dataclass(frozen=True)
class CategoryInfo:
    """What the generator needs of a category row."""

    code: str
    label_zh: str
    subtypes: tuple[str, ...]
    attributes: dict[str, Any]
    deadline_days: int


@dataclass
class SampleCase:
    """A generated case with its history; status and closing time follow from the events."""

    id: int
    category: str
    subtype: str | None
    attributes: dict[str, Any]
    geom: BaseGeometry
    title: str
    description: str
    village: Village
    events: list[SampleEvent]
    deadline: date | None
    reporter: tuple[str, str] | None = None
    responsible: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The status after the last event."""
        return self.events[-1].to_status

    @property
    def closed_at(self) -> datetime | None:
        """When it was struck off, for closed cases."""
        return self.events[-1].at if self.status == "closed" else None


class CaseGenerator:
    """Draws sample cases for a set of villages."""

    def __init__(self, villages: list[Village], categories: dict[str, CategoryInfo], seed: int, now: datetime) -> None:
        self.villages = villages
        self.categories = categories
        self.rng = np.random.default_rng(seed)
        self.place = Placer(self.rng)
        self.now = now
        self.next_id = 1

    def _pick(self, options: tuple[str, ...] | list[str]) -> str:
        return str(options[int(self.rng.integers(len(options)))])

    def _shape(self, category: str, v: Village) -> tuple[BaseGeometry, str | None, dict[str, Any], str]:
        info = self.categories[category]
        sub = self._pick(info.subtypes) if info.subtypes else None
        match category:
            case "garbage_point":
                return self._garbage(v, sub)
            case "ruined_wall":
                return self.place.wall(v), sub, {}, f"公路沿线及村庄可视范围内{sub}，需拆除清理。"
            case "dilapidated_house":
                occupied = bool(self.rng.random() < 0.1)
                text = "仍有人居住，需先动员搬离" if occupied else "闲置无人居住"
                return (
                    self.place.house(v),
                    sub,
                    {"occupied": occupied},
                    f"{sub}，{text}，存在安全隐患。",
                )
            case "black_odorous_water":
                return self._water(v, info)
            case "agri_waste":
                return self.place.in_fields(v), sub, {}, f"田间路旁{sub}随意堆放，需清理。"
        return self.place.near_houses(v), sub, {}, f"户厕{sub}，列入整改台账。"

    def _garbage(self, v: Village, pile: str | None) -> tuple[BaseGeometry, str | None, dict[str, Any], str]:
        roll = self.rng.random()
        if roll < 0.4:
            geom, on_road = self.place.by_road(v)
            edge = "路边" if on_road else "村边"
        elif roll < 0.6:
            geom, edge = self.place.by_edge(v), "村边"
        else:
            geom, edge = self.place.in_fields(v), self._pick(["地边", "田边", "林边", "沟边"])
        volume = int(self.rng.integers(1, 12))
        return geom, pile, {"edge": edge}, f"{edge}{pile}约{volume}立方米，影响村容，需清运。"

    def _water(self, v: Village, info: CategoryInfo) -> tuple[BaseGeometry, str | None, dict[str, Any], str]:
        level = self._pick(info.attributes["supervision_level"]["values"])
        if self.rng.random() < 0.55:
            geom, sub = self.place.pond(v), "坑塘"
        else:
            geom, sub = self.place.ditch(v), self._pick(["渠道", "排水沟"])
        return (
            geom,
            sub,
            {"supervision_level": level},
            f"{sub}水体发黑发臭，岸边堆有垃圾（{level}监管）。",
        )

    def _actors(self, category: str, v: Village) -> Actors:
        inspector = "demo-inspector" if v.township == CAMPAIGN_TOWNSHIP else f"inspector@{v.township}"
        unit = assignee_unit_code(category, v.county, v.township)
        assignee = "demo-contractor" if unit == "640221202-erquan" else f"unit:{unit}"
        manager = "demo-grid-manager" if v.code == SHOWCASE_GRID[:12] else f"grid-manager@{v.code}"
        return Actors(manager, inspector, unit, assignee)

    def _reporter(self) -> tuple[str, str] | None:
        if self.rng.random() > 0.35:
            return None
        surname = SURNAMES[int(self.rng.integers(len(SURNAMES)))]
        return f"村民{surname}某", f"1380000{int(self.rng.integers(10000)):04d}"

    def make(self, category: str, v: Village, reported_at: datetime, kind: str = "normal",
             stop: datetime | None = None) -> SampleCase:  # fmt: skip
        """One case of ``category`` in village ``v``, reported at ``reported_at``.

        ``stop`` (default: now) is where its history ends, so a case can be left open.
        """
        geom, sub, attrs, text = self._shape(category, v)
        who = self._actors(category, v)
        tl = Timeline(self.rng, min(stop or self.now, self.now), reported_at)
        tl.events.append(SampleEvent("report", None, "reported", who.grid_manager, reported_at,
                                     note="网格巡查发现"))  # fmt: skip
        water = "water" if category == "black_odorous_water" and kind == "normal" else kind
        simulate(tl, who, geom, self.categories[category].deadline_days, kind=water)
        label = sub or self.categories[category].label_zh
        case = SampleCase(self.next_id, category, sub, attrs, geom, f"{v.name}{label}", text, v,
                          tl.events, tl.deadline, self._reporter())  # fmt: skip
        self.next_id += 1
        return case

    def _recent_time(self, days_back: int = 330) -> datetime:
        days = days_back * float(self.rng.random()) ** 1.6
        start = self.now - timedelta(days=days)
        return start.replace(hour=int(self.rng.integers(8, 18)), minute=int(self.rng.integers(60)))

    def ongoing(self, total: int) -> Iterator[SampleCase]:
        """Cases of the last year across all villages (渠口乡 three times as dense)."""
        weights = np.array([3.0 if v.township == CAMPAIGN_TOWNSHIP else 1.0 for v in self.villages])
        counts = self.rng.multinomial(total, weights / weights.sum())
        codes = list(MIX)
        probs = np.array([MIX[c] for c in codes])
        for v, n in zip(self.villages, counts, strict=True):
            for _ in range(int(n)):
                category = codes[int(self.rng.choice(len(codes), p=probs))]
                reported = min(self._recent_time(), self.now - timedelta(minutes=5))
                yield self.make(category, v, reported)

    def campaign(self) -> Iterator[SampleCase]:
        """渠口乡 冬季战役: walls and houses cleared week by week, 2021-W51 … 2022-W07."""
        monday = datetime(2021, 12, 20, 9, 0, tzinfo=SHANGHAI)
        for v in (v for v in self.villages if v.township == CAMPAIGN_TOWNSHIP):
            pace = float(self.rng.uniform(0.6, 1.4))
            for week in range(9):
                start = monday + timedelta(weeks=week)
                for category, quota in (("ruined_wall", 5), ("dilapidated_house", 3)):
                    for _ in range(int(self.rng.poisson(quota * pace))):
                        at = start + timedelta(hours=float(self.rng.uniform(0, 60)))
                        yield self.make(category, v, at, kind="campaign")

    def showcase(self, v: Village) -> Iterator[SampleCase]:
        """Recent open cases around 金桥村第1网格's seat, so its patrol map has work on it."""
        seat = dict(v.grid_seats)[SHOWCASE_GRID]
        for i, category in enumerate(["garbage_point", "garbage_point", "ruined_wall", "agri_waste",
                                      "black_odorous_water", "garbage_point", "ruined_wall"]):  # fmt: skip
            at = self.now - timedelta(days=[1, 2, 5, 9, 20, 40, 12][i], hours=3)
            stop = at + timedelta(hours=[2, 20, 30, 60, 50, 80, 100][i])
            case = self.make(category, v, at, kind="showcase", stop=stop)
            if case.geom.geom_type == "Point":
                case.geom = self.place.near(v, seat, spread_m=70.0)
            yield case
