"""A bar chart drawn on the server as SVG (no script, no external asset)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape


def bar_chart(rows: Sequence[tuple[str, int, int]], *, title: str) -> str:
    """Horizontal bars: reports (light) and deaths (dark) per unit, largest first, at most 15."""
    rows = sorted((r for r in rows if r[1] or r[2]), key=lambda r: (-r[1], r[0]))[:15]
    bar_height, gap, label_width, chart_width = 16, 10, 150, 170
    height = max(len(rows), 1) * (bar_height * 2 + gap) + 30
    biggest = max([max(r[1], r[2]) for r in rows] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" '
        f'viewBox="0 0 {label_width + chart_width + 40} {height}" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    if not rows:
        parts.append('<text x="0" y="20">Chưa có số liệu</text>')
    y = 0
    for name, reports, deaths in rows:
        short = name if len(name) <= 24 else name[:23] + "…"
        parts.append(
            f'<text x="0" y="{y + bar_height + 4}" class="chart-label">{escape(short)}</text>'
        )
        for offset, value, css in ((0, reports, "bar-reports"), (bar_height, deaths, "bar-deaths")):
            w = round(chart_width * value / biggest)
            parts.append(
                f'<rect x="{label_width}" y="{y + offset}" width="{w}" height="{bar_height - 2}" '
                f'class="{css}"/>'
            )
            parts.append(
                f'<text x="{label_width + w + 4}" y="{y + offset + bar_height - 4}" '
                f'class="chart-value">{value}</text>'
            )
        y += bar_height * 2 + gap
    parts.append(
        f'<rect x="0" y="{y + 8}" width="12" height="12" class="bar-reports"/>'
        f'<text x="16" y="{y + 18}">Số vụ</text>'
        f'<rect x="80" y="{y + 8}" width="12" height="12" class="bar-deaths"/>'
        f'<text x="96" y="{y + 18}">Số người chết</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
