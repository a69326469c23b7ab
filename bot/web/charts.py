"""Small inline SVG charts, drawn on the server: no script, no library, readable on a phone.

Every label is escaped; the result is ``Markup`` for the templates.
"""
from __future__ import annotations

import math
from typing import Sequence

from markupsafe import Markup, escape

PALETTE = ("#b3261e", "#175cd3", "#1a7f37", "#b54708", "#6941c6", "#0e9384", "#c11574",
           "#667085", "#dc6803", "#3e4784", "#4e5ba6", "#9e77ed", "#98a2b3")


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 4, 5, 8 × 10ⁿ)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 4, 5, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
                  f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>')


def legend(series: Sequence[tuple[str, str]]) -> Markup:
    items = "".join(f'<span><i style="background:{color}"></i>{escape(name)}</span>' for name, color in series)
    return Markup(f'<div class="legend">{items}</div>')


def stacked_columns(columns: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], label: str,
                    height: int = 220, colors: Sequence[str] = PALETTE) -> Markup:
    """Columns (e.g. weeks) stacked by series (e.g. categories)."""
    width, left, bottom, top = 420, 34, 30, 16
    totals = [sum(values[i] for _, values in series) for i in range(len(columns))]
    if not any(totals):
        return empty(label)
    peak = max(4, _nice_max(max(totals)))  # counts: whole-number ticks
    plot_h = height - bottom - top
    slot = (width - left - 6) / max(1, len(columns))
    bar = max(6.0, slot * 0.62)
    every = max(1, math.ceil(len(columns) / 8))
    body = [_grid(width, left, top, plot_h, peak)]
    for i, name in enumerate(columns):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for index, (series_name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                        f'fill="{colors[index % len(colors)]}"><title>{escape(name)} {escape(series_name)}：'
                        f'{_fmt(value)}</title></rect>')
        if totals[i]:
            body.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{_fmt(totals[i])}</text>')
        if i % every == 0:  # many columns on a phone: label every few
            body.append(f'<text x="{x + bar / 2:.1f}" y="{height - 9}" text-anchor="middle">{escape(name)}</text>')
    return _svg(width, height, label, body)


def columns(items: Sequence[tuple[str, float]], label: str, unit: str = "", height: int = 200,
            color: str = PALETTE[1]) -> Markup:
    if not items:
        return empty(label)
    return stacked_columns([name for name, _ in items], [(unit or label, [v for _, v in items])], label, height,
                           colors=(color,))


def _grid(width: int, left: int, top: int, plot_h: float, peak: float) -> str:
    lines = []
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        lines.append(f'<line x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaecf0"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(round(value, 1))}</text>')
    return "".join(lines)


def hbars(items: Sequence[tuple[str, float]], label: str, unit: str = "", color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per row (compounds, projects): long names stay readable on a phone."""
    if not items:
        return empty(label)
    row, width, name_w = 30, 420, 150
    height = row * len(items) + 6
    peak = max(v for _, v in items) or 1
    body = []
    for i, (name, value) in enumerate(items):
        y = 3 + i * row
        w = (width - name_w - 56) * value / peak
        short = name if len(name) <= 9 else name[:8] + "…"
        body.append(f'<text x="{name_w - 6}" y="{y + 19}" text-anchor="end"><title>{escape(name)}</title>'
                    f'{escape(short)}</text>'
                    f'<rect x="{name_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 10}" rx="3" fill="{color}"/>'
                    f'<text x="{name_w + w + 6:.1f}" y="{y + 19}">{_fmt(value)}{escape(unit)}</text>')
    return _svg(width, height, label, body)


def proportion(parts: Sequence[tuple[str, float, str]], label: str) -> Markup:
    """One 100% bar split into parts (label, value, colour), e.g. satisfaction ratings."""
    total = sum(v for _, v, _ in parts)
    if not total:
        return empty(label)
    width, height = 420, 40
    x = 0.0
    body = []
    for name, value, color in parts:
        if not value:
            continue
        w = width * value / total
        body.append(f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="26" fill="{color}">'
                    f'<title>{escape(name)}：{_fmt(value)}</title></rect>')
        if w > 44:
            body.append(f'<text x="{x + w / 2:.1f}" y="22" text-anchor="middle" style="fill:#fff">'
                        f'{round(100 * value / total)}%</text>')
        x += w
    return _svg(width, height, label, body)


def empty(label: str) -> Markup:
    return Markup(f'<p class="muted small chart-empty">{escape(label)}：暂无数据</p>')
