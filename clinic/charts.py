"""Pain and adherence over time, drawn on the server as inline SVG.

No charting script: the CSP allows scripts from static/ only, and a chart that
is plain markup prints, works without JavaScript and costs the browser
nothing. Each chart comes with a one-sentence summary (the SVG's <desc>) and
the numbers as a table, for screen readers and for anyone who wants them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# Drawn at about the size it is shown in a half-width card, so 12px text
# stays about 12px; narrow screens enlarge the text (see app.css).
WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 38, 12, 26, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
WINDOW_DAYS = 182  # at most about six months
MIN_SPAN_DAYS = 28  # at least four weeks, so a few points do not fill the width
LINE_BREAK_DAYS = 14  # a longer gap between logs is drawn as a gap


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    title: str
    summary: str
    y_label: str
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    dots: list[Mark] = field(default_factory=list)
    diamonds: list[Mark] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    threshold: tuple[float, str] | None = None
    rows: list[tuple[str, ...]] = field(default_factory=list)
    columns: tuple[str, ...] = ()

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not (self.dots or self.diamonds or self.bars)


def _fmt(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _window(days: Iterable[date], today: date) -> tuple[date, date] | None:
    """From the first entry of the last six months (four weeks at least) to
    today, or to the last entry when the patient's data is older than that."""
    days = sorted(days)
    if not days:
        return None
    end = today if (today - days[-1]).days <= WINDOW_DAYS else days[-1]
    first = next(day for day in days if day >= end - timedelta(days=WINDOW_DAYS))
    start = min(first, end - timedelta(days=MIN_SPAN_DAYS))
    return start, end


class _Scale:
    def __init__(self, start: date, end: date) -> None:
        # A little room either side, so the first and last marks are not on the axes.
        span = max((end - start).days, 6)
        pad = max(1, round(span * 0.03))
        self.start = start - timedelta(days=pad)
        self.days = span + 2 * pad

    def x(self, day: date) -> float:
        return round(LEFT + PLOT_W * (day - self.start).days / self.days, 1)

    def ticks(self) -> list[tuple[float, str]]:
        end = self.start + timedelta(days=self.days)
        if self.days > 75:
            # Month starts, labelled by month (and the year at January or the first).
            day = date(self.start.year, self.start.month, 1)
            marks = []
            while day <= end:
                if day >= self.start:
                    marks.append(day)
                day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            step = max(1, -(-len(marks) // 6))
            out = []
            for n, day in enumerate(marks[::step]):
                label = f"{day:%b}" if n and day.month != 1 else f"{day:%b %Y}"
                out.append((self.x(day), label))
            return out
        # Mondays, every week or every other week.
        day = self.start + timedelta(days=(7 - self.start.weekday()) % 7)
        marks = []
        while day <= end:
            marks.append(day)
            day += timedelta(days=7)
        step = max(1, -(-len(marks) // 6))
        return [(self.x(day), f"{day.day} {day:%b}") for day in marks[::step]]


def _y(value: float, top: float) -> float:
    return round(TOP + PLOT_H * (1 - value / top), 1)


def pain_chart(
    *, logs: Iterable[tuple[date, int]], intakes: Iterable[tuple[date, float]], today: date
) -> Chart:
    """Pain logged with each session (dots joined by a line) and the pain
    given in each self-assessment (diamonds), 0 to 10."""
    logs = sorted(logs)
    intakes = sorted(intakes)
    chart = Chart(
        title="Pain over time",
        summary="No pain scores yet.",
        y_label="Pain (0–10)",
        columns=("Date", "Pain", "From"),
    )
    window = _window([d for d, _ in logs] + [d for d, _ in intakes], today)
    if window is None:
        return chart
    start, end = window
    logs = [(d, v) for d, v in logs if start <= d <= end]
    intakes = [(d, v) for d, v in intakes if start <= d <= end]
    scale = _Scale(start, end)
    chart.x_ticks = scale.ticks()
    chart.y_ticks = [(_y(v, 10), str(v)) for v in range(0, 11, 2)]

    segment: list[str] = []
    previous: date | None = None
    for day, value in logs:
        command = "L" if previous and (day - previous).days <= LINE_BREAK_DAYS else "M"
        segment.append(f"{command}{scale.x(day)} {_y(value, 10)}")
        chart.dots.append(Mark(scale.x(day), _y(value, 10), f"{_fmt(day)}: pain {value}"))
        previous = day
    if segment:
        chart.paths.append(" ".join(segment))
    for day, value in intakes:
        chart.diamonds.append(
            Mark(scale.x(day), _y(value, 10), f"{_fmt(day)}: self-assessment pain {value:g}")
        )

    rows = [(d, f"{v}", "Session log") for d, v in logs]
    rows += [(d, f"{v:g}", "Self-assessment") for d, v in intakes]
    chart.rows = [(_fmt(d), v, source) for d, v, source in sorted(rows, reverse=True)]

    points = sorted([*logs, *intakes])
    first, last = points[0], points[-1]
    count = len(points)
    if count == 1:
        chart.summary = f"One pain score: {last[1]:g} on {_fmt(last[0])}."
    else:
        trend = "rose" if last[1] > first[1] else "fell" if last[1] < first[1] else "stayed"
        chart.summary = (
            f"Pain {trend} from {first[1]:g} on {_fmt(first[0])} "
            f"{'at' if trend == 'stayed' else 'to'} {last[1]:g} on {_fmt(last[0])} "
            f"({count} scores)."
        )
    return chart


def adherence_chart(*, weeks: dict[date, tuple[float, int]], today: date) -> Chart:
    """Sessions done as a share of those scheduled, week by week (Monday to
    Sunday), with the dashboard's 50% line."""
    chart = Chart(
        title="Exercise sessions done",
        summary="No sessions scheduled yet.",
        y_label="Done (%)",
        columns=("Week of", "Done", "Scheduled", "Share"),
    )
    window = _window(weeks, today)
    if window is None:
        return chart
    start, end = window
    shown = {week: v for week, v in weeks.items() if start <= week <= end}
    scale = _Scale(start, end + timedelta(days=6))
    chart.x_ticks = scale.ticks()
    chart.y_ticks = [(_y(v, 100), f"{v}%") for v in (0, 25, 50, 75, 100)]
    chart.threshold = (_y(50, 100), "50%")
    bar_width = max(3.0, round(PLOT_W * 7 / scale.days * 0.7, 1))
    for week, (done, scheduled) in sorted(shown.items()):
        share = done / scheduled
        y = _y(share * 100, 100)
        chart.bars.append(
            {
                "x": round(scale.x(week) + (PLOT_W * 7 / scale.days - bar_width) / 2, 1),
                "y": y,
                "width": bar_width,
                "height": round(TOP + PLOT_H - y, 1),
                "low": share < 0.5,
                "label": f"Week of {_fmt(week)}: {done:g} of {scheduled} sessions ({share:.0%})",
            }
        )
    chart.rows = [
        (_fmt(week), f"{done:g}", str(scheduled), f"{done / scheduled:.0%}")
        for week, (done, scheduled) in sorted(shown.items(), reverse=True)
    ]
    total_done = sum(d for d, _ in shown.values())
    total = sum(s for _, s in shown.values())
    low = sum(1 for d, s in shown.values() if d / s < 0.5)
    chart.summary = (
        f"{total_done:g} of {total} scheduled sessions done over {len(shown)} "
        f"week{'s' if len(shown) != 1 else ''} ({total_done / total:.0%}); "
        f"{low} week{'s' if low != 1 else ''} under 50%."
    )
    return chart


def weekly_adherence(plans: Iterable[Any], today: date) -> dict[date, tuple[float, int]]:
    """(sessions done, sessions scheduled) per week, over every plan, up to
    today. Each `plans` row has `.plan` and `.logs`, as `dashboard.PlanRow`."""
    from exercises.models import SessionLog

    credit = {
        SessionLog.Completion.ALL: 1.0,
        SessionLog.Completion.SOME: 0.5,
        SessionLog.Completion.NONE: 0.0,
    }
    weeks: dict[date, list[float]] = defaultdict(lambda: [0.0, 0])
    for row in plans:
        plan = row.plan
        logged = {log.date: log for log in row.logs}
        for day in plan.session_days(plan.start_date, min(today, plan.end_date)):
            week = day - timedelta(days=day.weekday())
            weeks[week][1] += 1
            if day in logged:
                weeks[week][0] += credit.get(logged[day].completion, 0.0)
    return {week: (done, int(scheduled)) for week, (done, scheduled) in weeks.items()}
