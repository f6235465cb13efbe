"""Charts drawn on the server as inline SVG: no chart library, no script.

Every chart is an ``<svg role="img">`` whose ``<title>`` says in words what it shows (its text equivalent), and
the pages put the same figures in a table beside it. Colours meet WCAG AA: each fill has at least 4.5:1
against white (so a label in white on it is readable too) and the bars have an outline.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

STATUS_COLOURS = {
    "planned": "#5a6472",
    "in_progress": "#1f5fae",
    "done": "#17714a",
    "dropped": "#8a4a0f",
}
BAND_COLOURS = {
    "target_met": "#17714a",
    "successful": "#3a6f1a",
    "good": "#6f5b00",
    "in_progress": "#9a4d00",
    "needs_improvement": "#b0261c",
}
TARGET_COLOUR = "#5a6472"
ACTUAL_COLOUR = "#1f5fae"
TRACK = "#eef0f3"
OUTLINE = "#5a6472"

_ids = itertools.count(1)


def _title(label: str) -> tuple[str, Markup]:
    identifier = f"chart-{next(_ids)}"
    return identifier, Markup('<title id="{}">{}</title>').format(identifier, label)


def _percent_of(value: Decimal | str | None) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def meter(percent: Decimal | str | None, band: str | None, label: str, width: int = 160) -> Markup:
    """A bar of achievement from 0 to 100 % (beyond 100 % the bar is full and a notch marks it), coloured by band."""
    identifier, title = _title(label)
    value = _percent_of(percent)
    height = 18
    parts = [Markup('<rect x="0.5" y="0.5" width="{}" height="{}" rx="3" fill="{}" stroke="{}"/>').format(
        width - 1, height - 1, TRACK, OUTLINE)]
    if value is not None:
        share = max(Decimal(0), min(value, Decimal(100))) / 100
        filled = int(share * (width - 2))
        if filled > 0:
            parts.append(Markup('<rect x="1" y="1" width="{}" height="{}" rx="2" fill="{}"/>').format(
                filled, height - 2, BAND_COLOURS.get(band or "", OUTLINE)))
        if value > 100:
            parts.append(Markup('<path d="M{} 1 l-6 8 l6 8 z" fill="#ffffff"/>').format(width - 2))
    else:
        parts.append(Markup('<path d="M6 {} H{}" stroke="{}" stroke-dasharray="4 4"/>').format(
            height / 2, width - 6, OUTLINE))
    return _svg(identifier, title, width, height, parts, "meter")


def stacked(segments: Sequence[tuple[int, str]], label: str, width: int = 240) -> Markup:
    """A bar split into segments of (count, status), in proportion to the total; statuses coloured."""
    identifier, title = _title(label)
    height = 18
    total = sum(count for count, _ in segments)
    parts = [Markup('<rect x="0.5" y="0.5" width="{}" height="{}" fill="{}" stroke="{}"/>').format(
        width - 1, height - 1, TRACK, OUTLINE)]
    x = 1.0
    for count, status in segments:
        if not total or not count:
            continue
        span = (width - 2) * count / total
        parts.append(Markup('<rect x="{:.2f}" y="1" width="{:.2f}" height="{}" fill="{}" class="seg-{}"/>').format(
            x, span, height - 2, STATUS_COLOURS.get(status, OUTLINE), status))
        x += span
    return _svg(identifier, title, width, height, parts, "stacked")


def ratio(covered: int, target: int, label: str, width: int = 160) -> Markup:
    """`target` boxes, `covered` of them filled: how many of the organisations a criterion asks for."""
    identifier, title = _title(label)
    height = 18
    count = max(target, 1)
    gap = 3
    box = (width - gap * (count - 1)) / count
    parts = []
    for n in range(count):
        fill = BAND_COLOURS["target_met"] if n < covered else TRACK
        parts.append(Markup('<rect x="{:.2f}" y="0.5" width="{:.2f}" height="{}" rx="2" fill="{}" stroke="{}"/>')
                     .format(n * (box + gap) + 0.5, box - 1, height - 1, fill, OUTLINE))
    return _svg(identifier, title, width, height, parts, "ratio")


def quota(share: Decimal | str | None, quota_percent: Decimal | str | None, label: str, width: int = 200) -> Markup:
    """The share of purchases from cooperatives (0–100 %) as a bar, the quota as a vertical mark."""
    identifier, title = _title(label)
    height = 22
    parts = [Markup('<rect x="0.5" y="2.5" width="{}" height="{}" fill="{}" stroke="{}"/>').format(
        width - 1, height - 5, TRACK, OUTLINE)]
    value = _percent_of(share)
    mark = _percent_of(quota_percent)
    met = value is not None and mark is not None and value >= mark
    if value is not None:
        filled = float(max(Decimal(0), min(value, Decimal(100))) / 100 * (width - 2))
        parts.append(Markup('<rect x="1" y="3" width="{:.2f}" height="{}" fill="{}"/>').format(
            filled, height - 6, BAND_COLOURS["target_met" if met else "in_progress"]))
    if mark is not None:
        x = float(min(mark, Decimal(100)) / 100 * (width - 2)) + 1
        parts.append(Markup('<path d="M{:.2f} 0 V{}" stroke="#1b1f24" stroke-width="2"/>').format(x, height))
    return _svg(identifier, title, width, height, parts, "quota")


@dataclass(frozen=True)
class TrendPoint:
    period: str
    target: Decimal | None
    actual: Decimal | None


def trend(points: Sequence[TrendPoint], label: str, target_name: str, actual_name: str) -> Markup:
    """Target (dashed) and actual (solid) over the periods, with the periods under the axis."""
    identifier, title = _title(label)
    width, height = 480, 200
    left, right, top, bottom = 48, 16, 16, 40
    values = [v for p in points for v in (p.target, p.actual) if v is not None]
    high = max([*values, Decimal(0)])
    low = min([*values, Decimal(0)])
    if high == low:
        high = low + 1
    span_x = (width - left - right) / max(len(points) - 1, 1)

    def x_of(n: int) -> float:
        return left + (n * span_x if len(points) > 1 else (width - left - right) / 2)

    def y_of(value: Decimal) -> float:
        return top + float((high - value) / (high - low)) * (height - top - bottom)

    parts = [
        Markup('<path d="M{} {} V{} H{}" stroke="{}" fill="none"/>').format(
            left, top, height - bottom, width - right, OUTLINE),
        Markup('<text x="{}" y="{:.1f}" text-anchor="end" class="axis">{}</text>').format(
            left - 6, y_of(high) + 4, _plain(high)),
        Markup('<text x="{}" y="{:.1f}" text-anchor="end" class="axis">{}</text>').format(
            left - 6, y_of(low) + 4, _plain(low)),
    ]
    for n, point in enumerate(points):
        parts.append(Markup('<text x="{:.1f}" y="{}" text-anchor="middle" class="axis">{}</text>').format(
            x_of(n), height - bottom + 18, point.period))
    for attribute, colour, dash in (("target", TARGET_COLOUR, "6 4"), ("actual", ACTUAL_COLOUR, "")):
        line = [(x_of(n), y_of(getattr(p, attribute))) for n, p in enumerate(points)
                if getattr(p, attribute) is not None]
        if len(line) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(line))
            parts.append(Markup('<path d="{}" stroke="{}" stroke-width="2.5" fill="none"{}/>').format(
                path, colour, Markup(f' stroke-dasharray="{dash}"') if dash else ""))
        for x, y in line:
            shape = (Markup('<rect x="{:.1f}" y="{:.1f}" width="8" height="8" fill="{}"/>').format(x - 4, y - 4, colour)
                     if attribute == "target" else
                     Markup('<circle cx="{:.1f}" cy="{:.1f}" r="4.5" fill="{}"/>').format(x, y, colour))
            parts.append(shape)
    legend_y = height - 6
    parts.append(Markup('<path d="M{} {} h18" stroke="{}" stroke-width="2.5" stroke-dasharray="6 4"/>'
                        '<text x="{}" y="{}" class="axis">{}</text>'
                        '<path d="M{} {} h18" stroke="{}" stroke-width="2.5"/>'
                        '<text x="{}" y="{}" class="axis">{}</text>').format(
        left, legend_y - 4, TARGET_COLOUR, left + 24, legend_y, target_name,
        left + 140, legend_y - 4, ACTUAL_COLOUR, left + 164, legend_y, actual_name))
    return _svg(identifier, title, width, height, parts, "trend")


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _svg(identifier: str, title: Markup, width: int, height: int, parts: Sequence[Markup], kind: str) -> Markup:
    return Markup('<svg class="chart chart-{}" role="img" aria-labelledby="{}" viewBox="0 0 {} {}" width="{}" '
                  'height="{}" focusable="false">{}{}</svg>').format(
        kind, identifier, width, height, width, height, title, Markup("").join(parts))


__all__ = ["BAND_COLOURS", "STATUS_COLOURS", "TrendPoint", "escape", "meter", "quota", "ratio", "stacked", "trend"]
