"""Server-rendered SVG line charts (no chart library, no CDN): one price series across issues."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 16, 40
TICKS = 4


@dataclass(frozen=True)
class Point:
    label: str  # an ISO date
    value: float
    title: str = ""  # hover text


def _nice_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.1
    return low - pad, high + pad


def _number(value: float) -> str:
    return f"{value:.4g}"


def line_chart(points: list[Point], unit: str = "", width: int = WIDTH, height: int = HEIGHT) -> str:
    """An accessible SVG: axes, value ticks, a dated x axis, the line and a circle per point."""
    if not points:
        return ""
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    low, high = _nice_range([p.value for p in points])

    def x(index: int) -> float:
        return MARGIN_LEFT + (plot_w / 2 if len(points) == 1 else plot_w * index / (len(points) - 1))

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h * (high - value) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(unit)}">',
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + plot_h}" x2="{width - MARGIN_RIGHT}" '
        f'y2="{MARGIN_TOP + plot_h}" stroke="#888"/>',
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{MARGIN_TOP + plot_h}" '
        'stroke="#888"/>',
    ]
    for step in range(TICKS + 1):
        value = low + (high - low) * step / TICKS
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">{_number(value)}</text>'
            f'<line x1="{MARGIN_LEFT}" y1="{y(value):.1f}" x2="{width - MARGIN_RIGHT}" y2="{y(value):.1f}" '
            'stroke="#eee"/>'
        )
    if unit:
        parts.append(f'<text x="4" y="{MARGIN_TOP - 4}" font-size="11">{escape(unit)}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
    parts.append(f'<path class="series" d="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    for i, p in enumerate(points):
        parts.append(
            f'<circle class="point" cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="4" fill="#1f6feb">'
            f"<title>{escape(p.title or f'{p.label}: {_number(p.value)}')}</title></circle>"
            f'<text x="{x(i):.1f}" y="{height - MARGIN_BOTTOM + 16}" text-anchor="middle" font-size="11">'
            f"{escape(p.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


SERIES_COLOURS = ("#1f6feb", "#d9730d")


def bar_chart(labels: list[str], series: list[list[int]], links: list[str], names: list[str],
              width: int = WIDTH, height: int = 180) -> str:
    """Grouped bars, one group per label (an issue or a month), each group a link (to narrow the
    search to it); every bar has its count as hover text."""
    if not labels:
        return ""
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    top = max([1] + [n for values in series for n in values])
    slot = plot_w / len(labels)
    bar = max(1.0, slot * 0.8 / len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(" / ".join(names))}">',
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP + plot_h}" x2="{width - MARGIN_RIGHT}" '
        f'y2="{MARGIN_TOP + plot_h}" stroke="#888"/>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    every = max(1, len(labels) // 8)  # at most about eight labels under the axis
    for i, (label, link) in enumerate(zip(labels, links)):
        x0 = MARGIN_LEFT + slot * i + slot * 0.1
        parts.append(f'<a href="{escape(link)}" class="bucket" data-label="{escape(label)}">')
        for s, values in enumerate(series):
            h = plot_h * values[i] / top
            parts.append(
                f'<rect class="bar s{s}" x="{x0 + bar * s:.1f}" y="{MARGIN_TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{SERIES_COLOURS[s % len(SERIES_COLOURS)]}">'
                f"<title>{escape(names[s])} · {escape(label)}: {values[i]}</title></rect>"
            )
        parts.append("</a>")
        if i % every == 0:
            parts.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{height - MARGIN_BOTTOM + 16}" text-anchor="middle" '
                         f'font-size="10">{escape(label[5:] if len(label) == 10 else label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
