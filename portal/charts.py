"""Charts drawn on the server as SVG: no script, no outside asset, readable without a stylesheet.

Every chart is an `<svg role="img">` with a title and a one-sentence summary
(its text alternative); the pages put a table of the same numbers next to it.
Colours come from classes in style.css, so they follow the light and dark
themes; the markup here carries only shapes and escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from portal.core.services.activity import DayCount
from portal.core.services.analytics import HOURS, STORY_POINTS, Burndown, Velocity

UNIT_NAMES = {STORY_POINTS: "story points", HOURS: "hours", "tasks": "tasks"}


def number(value: float | None) -> str:
    """8.0 -> "8", 2.5 -> "2.5"."""
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(
    chart_id: str, width: int, height: int, title: str, summary: str, body: list[str], css: str
) -> Markup:
    # Every piece of text in `body`, the title and the summary is escaped; ids and classes are ours.
    return Markup(  # noqa: S704
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>' + "".join(body) + "</svg>"
    )


def _ceiling(value: float) -> float:
    """A round upper bound for an axis whose quarters read well: 1, 2, 4, 8, 10, 20, 40 ..."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 4, 8, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def calls_sparkline(chart_id: str, days: Sequence[DayCount], *, label: str) -> Markup:
    """Calls per day as small stacked bars: successful calls, and failed ones on top in another colour."""
    width, height, gap = 140, 32, 2
    total = sum(d.calls for d in days)
    failed = sum(d.errors for d in days)
    top = max([d.calls for d in days] + [1])
    bar = (width - gap * (len(days) - 1)) / max(1, len(days))
    body = [f'<line class="axis" x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/>']
    for index, day in enumerate(days):
        x = index * (bar + gap)
        ok_height = (height - 1) * day.ok / top
        error_height = (height - 1) * day.errors / top
        tip = f"{day.day.isoformat()}: {day.calls} call{'s' if day.calls != 1 else ''}, {day.errors} failed"
        body.append(f"<g><title>{escape(tip)}</title>")
        if day.ok:
            body.append(
                f'<rect class="ok" x="{x:.1f}" y="{height - 1 - ok_height:.1f}" width="{bar:.1f}" height="{ok_height:.1f}"/>'
            )
        if day.errors:
            body.append(
                f'<rect class="failed" x="{x:.1f}" y="{height - 1 - ok_height - error_height:.1f}" '
                f'width="{bar:.1f}" height="{error_height:.1f}"/>'
            )
        body.append("</g>")
    first, last = (days[0].day, days[-1].day) if days else (None, None)
    span = f" from {first.isoformat()} to {last.isoformat()}" if first and last else ""
    summary = f"{total} call{'s' if total != 1 else ''}{span}, {failed} of them failed."
    return _svg(chart_id, width, height, label, summary, body, "sparkline")


def burndown_chart(chart_id: str, chart: Burndown, *, title: str) -> Markup:
    """Work remaining at the end of each day (solid) against the ideal straight line (dashed)."""
    width, height = 640, 280
    left, right, top, bottom = 44, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    points = chart.points
    ceiling = _ceiling(max([chart.total] + [p.remaining or 0 for p in points]))
    count = max(1, len(points) - 1)

    def x(index: int) -> float:
        return left + plot_w * index / count if len(points) > 1 else left + plot_w / 2

    def y(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    body = _grid(left, top, plot_w, plot_h, ceiling)
    ideal = " ".join(f"{x(i):.1f},{y(p.ideal):.1f}" for i, p in enumerate(points))
    body.append(f'<polyline class="ideal" points="{ideal}"/>')
    known = [(i, p, p.remaining) for i, p in enumerate(points) if p.remaining is not None]
    if known:
        line = " ".join(f"{x(i):.1f},{y(left_over):.1f}" for i, _, left_over in known)
        body.append(f'<polyline class="remaining" points="{line}"/>')
        for i, p, left_over in known:
            tip = f"{p.date.isoformat()}: {number(left_over)} left (ideal {number(p.ideal)})"
            body.append(
                f'<circle class="remaining-dot" cx="{x(i):.1f}" cy="{y(left_over):.1f}" r="3">'
                f"<title>{escape(tip)}</title></circle>"
            )
    if points:
        body.append(_x_label(x(0), height - bottom + 16, points[0].date.strftime("%b %d"), "start"))
        body.append(
            _x_label(x(len(points) - 1), height - bottom + 16, points[-1].date.strftime("%b %d"), "end")
        )
    body += _legend(left, height - 8, [("remaining", "Remaining"), ("ideal", "Ideal")])
    unit = UNIT_NAMES.get(chart.unit, chart.unit)
    latest = known[-1][1] if known else None
    if latest is not None:
        summary = (
            f"{number(chart.total)} {unit} in all; {number(latest.remaining)} left on {latest.date.isoformat()} "
            f"against an ideal of {number(latest.ideal)}. {chart.done_count} of {chart.task_count} tasks done."
        )
    else:
        summary = f"{number(chart.total)} {unit} in all; the sprint has not started yet."
    return _svg(chart_id, width, height, title, summary, body, "line-chart")


def velocity_chart(chart_id: str, result: Velocity, *, title: str) -> Markup:
    """Committed and completed work per sprint, side by side, oldest sprint first."""
    width, height = 640, 280
    left, right, top, bottom = 44, 12, 12, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    rows = result.sprints
    ceiling = _ceiling(max([r.committed for r in rows] + [r.completed for r in rows] + [1]))

    def y(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    body = _grid(left, top, plot_w, plot_h, ceiling)
    slot = plot_w / max(1, len(rows))
    bar = min(32.0, slot * 0.35)
    for index, row in enumerate(rows):
        middle = left + slot * (index + 0.5)
        for css, value, offset in (("committed", row.committed, -bar), ("completed", row.completed, 0.0)):
            body.append(
                f'<rect class="{css}" x="{middle + offset:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                f'height="{top + plot_h - y(value):.1f}"><title>{escape(row.sprint.name)}: {css} '
                f"{escape(number(value))}</title></rect>"
            )
        name = row.sprint.name if len(row.sprint.name) <= 14 else row.sprint.name[:13] + "…"
        body.append(_x_label(middle, height - bottom + 16, name, "middle"))
    body += _legend(left, height - 8, [("committed", "Committed"), ("completed", "Completed")])
    unit = UNIT_NAMES.get(result.unit, result.unit)
    summary = (
        f"{len(rows)} closed sprint{'s' if len(rows) != 1 else ''}; on average {number(result.average_completed)} "
        f"{unit} completed per sprint."
    )
    return _svg(chart_id, width, height, title, summary, body, "bar-chart")


def _grid(left: float, top: float, plot_w: float, plot_h: float, ceiling: float) -> list[str]:
    lines = []
    for step in range(5):
        value = ceiling * step / 4
        y = top + plot_h * (1 - step / 4)
        lines.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>')
        lines.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(number(value))}</text>'
        )
    return lines


def _x_label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _legend(x: float, y: float, entries: list[tuple[str, str]]) -> list[str]:
    parts = []
    for css, label in entries:
        parts.append(f'<rect class="{css} swatch" x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10"/>')
        parts.append(f'<text class="legend" x="{x + 14:.1f}" y="{y:.1f}">{escape(label)}</text>')
        x += 24 + 8 * len(label)
    return parts
