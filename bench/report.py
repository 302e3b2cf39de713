"""The markdown report (基准报告) of one ``python -m bench`` run: tables with medians, ranges and ratios."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bench.features import FLOOR, FLOOR_CASES, TIPG, VM, VM_CASES, Measured, Place, Request
from bench.load import Summary, fmt


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def _rate(s: Summary | None) -> str:
    return fmt(s.rate) if s else "–"


def _p50(s: Summary | None) -> str:
    return fmt(s.p50, 2) if s else "–"


def feature_tables(m: Measured, requests: Sequence[Request], conns: Sequence[int]) -> list[str]:
    """Per connection count: VillageMap (OGC and /cases), tipg and the floor side by side."""
    out: list[str] = []
    for c in conns:
        out += [f"#### {c} connection{'s' if c > 1 else ''}", "",
                "| request | side | req/s (tps) median (min–max) | p50 ms median (min–max) | p99 ms | bytes | errors |",
                "|---|---|---|---|---|---|---|"]  # fmt: skip
        for req in requests:
            for side in (VM, VM_CASES, TIPG, FLOOR, FLOOR_CASES):
                s = m.rows.get((req.key, side, c))
                if s is None:
                    continue
                p99 = f"{s.p99:.1f}" if s.p99 is not None else "–"
                size = m.size.get((req.key, side))
                out.append(f"| {req.label} | {side} | {_rate(s)} | {_p50(s)} | {p99} | "
                           f"{f'{size:,}' if size else '–'} | {s.errors} |")  # fmt: skip
        out.append("")
    return out


def _rate_of(m: Measured, key: str, side: str, c: int) -> float | None:
    s = m.rows.get((key, side, c))
    return s.rate[0] if s else None


def _p50_of(m: Measured, key: str, side: str, c: int) -> float | None:
    s = m.rows.get((key, side, c))
    return s.p50[0] if s else None


def targets(m: Measured, truth: dict[str, int]) -> list[tuple[str, str, str]]:
    """(target, measured, met?) for the issue's feature targets, from the medians."""
    rows = []

    def check(name: str, value: float | None, goal: float, text: str) -> None:
        ok = "yes" if value is not None and value >= goal else "**no**"
        rows.append((name, text, ok))

    vm_t = _ratio(_rate_of(m, "bbox100", VM, 16), _rate_of(m, "bbox100", TIPG, 16))
    check("bbox ≥ 8× tipg (16 conns)", _num(vm_t), 8, vm_t)
    vm_f = _ratio(_rate_of(m, "bbox100", VM, 16), _rate_of(m, "bbox100", FLOOR, 16))
    check("bbox ≥ 50 % of SQL floor (16 conns)", _num(vm_f), 0.5, vm_f)
    un = _ratio(_rate_of(m, "page100", VM, 16), _rate_of(m, "page100", TIPG, 16))
    check("unfiltered page ≥ 20× tipg (16 conns)", _num(un), 20, un)
    tile = _ratio(_rate_of(m, "tile", VM, 16), _rate_of(m, "tile", TIPG, 16))
    check("tile ≥ 2× tipg (16 conns)", _num(tile), 2, tile)
    got, theirs = m.tile_features.get(VM), m.tile_features.get(TIPG, 0)
    text = f"VillageMap {got or 0:,} of {truth[VM]:,}; tipg {theirs:,} of {truth[TIPG]:,}"
    rows.append(
        ("tile complete (features in the tile vs PostGIS count)", text, "yes" if got == truth[VM] else "**no**")
    )
    for key in ("bbox100", "page100", "page1000", "tile"):
        vm, floor = _p50_of(m, key, VM, 1), _p50_of(m, key, FLOOR, 1)
        ratio = _ratio(vm, floor)
        ok = "yes" if vm is not None and floor and vm <= 2 * floor else "**no**"
        rows.append((f"{key}: single-request p50 ≤ 2× SQL floor", f"{ratio} ({vm} vs {floor} ms)", ok))
    return rows


def _num(text: str) -> float | None:
    return float(text.rstrip("×")) if text != "–" else None


def writes_table(w: dict[str, Any]) -> list[str]:
    """Close-out over HTTP against its floor."""
    http, floor = w["http"], w["floor"]
    share = http.rate[0] / floor.rate[0] if floor.rate[0] else 0
    return [
        f"| close-out, {w['clients']} clients | req/s (tps) median (min–max) | p50 (avg) ms | p99 ms | errors |",
        "|---|---|---|---|---|",
        f"| VillageMap `POST /cases/{{id}}/close` | {_rate(http)} | {_p50(http)} | {http.p99} | {http.errors} |",
        f"| SQL floor ({w['statements']} statements, 1 transaction) | {_rate(floor)} | {_p50(floor)} | – | "
        f"{floor.errors} |",
        "",
        f"VillageMap reaches **{share:.0%}** of the floor (target ≥ 50 %: {'met' if share >= 0.5 else '**missed**'}). "
        f"{w['closed']:,} cases were closed for {w['sent']:,} requests sent.",
    ]


def scale_table(small: int, big: int, m: dict[tuple[str, int], Summary]) -> list[str]:
    """The bbox page at two table sizes."""
    out = [
        "| side | connections | " + f"{small:,} cases | {big:,} cases | ratio (p50 big ÷ small) |",
        "|---|---|---|---|---|",
    ]
    for side in (VM, FLOOR):
        for c in (1, 16):
            a, b = m.get((f"{side}@{small}", c)), m.get((f"{side}@{big}", c))
            if a and b:
                out.append(f"| {side} | {c} | p50 {_p50(a)} ms, {_rate(a)}/s | p50 {_p50(b)} ms, {_rate(b)}/s | "
                           f"{b.p50[0] / a.p50[0]:.2f}× |")  # fmt: skip
    return out


def header(place: Place | None, db_seconds: dict[str, Any], machine: str) -> list[str]:
    """What was measured where."""
    lines = [f"Machine: {machine}", ""]
    if place:
        box, tile = ",".join(str(v) for v in place.bbox), "/".join(map(str, place.tile))
        lines += [f"Densest village {place.village} at ({place.lon:.5f}, {place.lat:.5f}); "
                  f"2 km bbox `{box}`; dense tile `{tile}`.", ""]  # fmt: skip
    lines += [f"Data preparation (s): `{json.dumps(db_seconds)}`", ""]
    return lines
