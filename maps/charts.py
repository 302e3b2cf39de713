"""Small charts (统计图) as inline SVG: grouped bars over time, for office pages and print.

Data in, one ``<svg>`` out: no script, no network. Every label is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BarSeries:
    """One series of a bar chart: the key in each row, a bilingual label and a colour."""

    key: str
    label: str
    colour: str


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value`` whose quarters are round too (0, 20, 40, 60, 80)."""
    if value <= 0:
        return 4.0
    raw = value / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return float(4 * step)


@dataclass(frozen=True)
class _Plot:
    """The plotting box of a chart, in pixels, and the value at its top."""

    left: float
    top: float
    width: float
    height: float
    peak: float

    def y(self, value: float) -> float:
        """Pixel row of a value."""
        return self.top + self.height - self.height * value / self.peak


def _axis(plot: _Plot, right_edge: float) -> list[str]:
    parts = []
    for i in range(5):
        value = plot.peak * i / 4
        y = plot.y(value)
        parts.append(f'<line x1="{plot.left}" x2="{right_edge}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{plot.left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')  # fmt: skip
    return parts


def _bars(plot: _Plot, rows: Sequence[dict[str, Any]], series: Sequence[BarSeries], x_key: str) -> list[str]:
    group_w = plot.width / max(len(rows), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = []
    for gi, row in enumerate(rows):
        x0 = plot.left + gi * group_w + group_w * 0.1
        label = html.escape(str(row[x_key]))
        for si, s in enumerate(series):
            value = float(row[s.key])
            y = plot.y(value)
            parts.append(f'<rect class="vm-bar vm-bar-{html.escape(s.key)}" x="{x0 + si * bar_w:.1f}" y="{y:.1f}" '
                         f'width="{bar_w * 0.92:.1f}" height="{plot.top + plot.height - y:.1f}" fill="{s.colour}">'
                         f"<title>{label} {html.escape(s.label)}: {value:g}</title></rect>")  # fmt: skip
        bottom = plot.top + plot.height + 14
        parts.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{bottom}" text-anchor="middle">{label}</text>')
    return parts


def bar_chart_svg(rows: Sequence[dict[str, Any]], series: Sequence[BarSeries], *, x_key: str, title: str,
                  width: int = 640, height: int = 260) -> str:  # fmt: skip
    """Grouped vertical bars per row (e.g. months), with a y axis, a legend and values as tooltips."""
    peak = _nice_top(max((float(r[s.key]) for r in rows for s in series), default=0.0))
    plot = _Plot(40, 28, width - 50, height - 70, peak)
    parts = [f'<text x="{plot.left}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    parts += _axis(plot, width - 10) + _bars(plot, rows, series, x_key)
    for si, s in enumerate(series):
        x = plot.left + si * 130
        parts.append(f'<rect x="{x}" y="{height - 14}" width="12" height="10" fill="{s.colour}"/>'
                     f'<text x="{x + 16}" y="{height - 5}">{html.escape(s.label)}</text>')  # fmt: skip
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="vm-svg-chart" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}" font-size="10">'
            f"{''.join(parts)}</svg>")  # fmt: skip
