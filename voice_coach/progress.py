"""The practice history over time, for people: pain before and after each session, and
per week the sessions, the minutes and the average pain; as rows for `history`, CSV, a
chart (SVG, drawn here with no script or font to fetch; the same chart as a PNG in
`export.plot`) and one printable page for a physiotherapist.

Pure: the sessions and the day are passed in; the history is read by the caller.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean
from typing import Literal

from .history import Session

WEEKS_SHOWN = 8
"""Weeks `history` lists, and the chart draws."""
PAIN_TOP = 10
"""The top of the 0-10 pain scale."""


@dataclass(frozen=True)
class Week:
    """One ISO week of practice."""

    monday: date
    sessions: int
    """Sessions that count as practice: finished, or at least one step done."""
    minutes: float
    pain_before: float | None
    """Average rating before the week's sessions (0-10); None: none rated."""
    pain_after: float | None
    """Average rating after them; None: none rated."""
    ratings: int
    """How many sessions were rated (before, after or both)."""


def practised(session: Session) -> bool:
    """Whether a session counts as practice (as the streak and weekly minutes count)."""
    return session.finished or session.steps_completed > 0


def _average(values: Sequence[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fmean(known) if known else None


def weeks_of(sessions: Sequence[Session], today: date, weeks: int = WEEKS_SHOWN) -> list[Week]:
    """The last `weeks` ISO weeks (UTC), the one holding `today` last, oldest first;
    weeks without practice give zeros and no pain."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    out = []
    for monday in mondays:
        held = [
            s
            for s in sessions
            if practised(s) and monday <= s.started_at.date() < monday + timedelta(weeks=1)
        ]
        out.append(
            Week(
                monday,
                len(held),
                sum(s.duration_s for s in held) / 60,
                _average([s.pain_before for s in held]),
                _average([s.pain_after for s in held]),
                sum(s.pain_before is not None or s.pain_after is not None for s in held),
            )
        )
    return out


def pain_words(session: Session) -> str:
    """A session's ratings: "3 → 2", "? → 2", "4 → ?"; "" when neither was given."""
    if session.pain_before is None and session.pain_after is None:
        return ""

    def shown(p: int | None) -> str:
        return "?" if p is None else str(p)

    return f"{shown(session.pain_before)} → {shown(session.pain_after)}"


def _average_words(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


SESSION_HEADERS = ("when", "routine", "minutes", "steps", "finished", "how", "pain", "note")


def session_rows(sessions: Sequence[Session]) -> list[tuple[str, ...]]:
    """A row per session for `history`'s table (`SESSION_HEADERS`), in local time."""
    return [
        (
            s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            s.routine_title,
            f"{s.duration_s / 60:.1f}",
            f"{s.steps_completed}/{s.steps_total or '?'}",
            "yes" if s.finished else "no",
            s.source,
            pain_words(s),
            s.note if len(s.note) <= 40 else s.note[:39] + "…",
        )
        for s in sessions
    ]


def week_lines(weeks: Sequence[Week]) -> list[str]:
    """ "week of  sessions  minutes  pain before → after" and a line a week with a bar of
    its minutes."""
    peak = max((w.minutes for w in weeks), default=0) or 1
    lines = ["week of     sessions  minutes  pain before → after"]
    for w in weeks:
        bar = "#" * round(20 * w.minutes / peak)
        pain = f"{_average_words(w.pain_before):>4} → {_average_words(w.pain_after):<4}"
        lines.append(f"{w.monday.isoformat()}  {w.sessions:8d}  {w.minutes:7.0f}  {pain}  {bar}")
    return lines


def summary_lines(sessions: Sequence[Session], streak_days: int, today: date) -> list[str]:
    """What `history` prints under its table of sessions: the streak, then the last
    `WEEKS_SHOWN` weeks."""
    return [
        f"streak: {streak_days} day{'s' if streak_days != 1 else ''}",
        *week_lines(weeks_of(sessions, today)),
    ]


MAX_WEEKS_DRAWN = 52


def weeks_since_first(sessions: Sequence[Session], today: date) -> int:
    """How many weeks a chart or report covers: from the week of the first session to
    this one, at least `WEEKS_SHOWN`, at most `MAX_WEEKS_DRAWN`."""
    first = min((s.started_at.date() for s in sessions), default=today)
    span = (today - timedelta(days=today.weekday()) - first).days // 7 + 1
    return max(WEEKS_SHOWN, min(MAX_WEEKS_DRAWN, span))


CSV_HEADERS = (
    "started_at",
    "ended_at",
    "routine",
    "routine_title",
    "minutes",
    "steps_completed",
    "steps_total",
    "finished",
    "source",
    "stage",
    "pain_before",
    "pain_after",
    "note",
)


def csv_text(sessions: Sequence[Session]) -> str:
    """Every session as CSV for a spreadsheet (UTC times in ISO 8601), oldest first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for s in sorted(sessions, key=lambda s: s.started_at):
        writer.writerow(
            (
                s.started_at.isoformat(),
                s.ended_at.isoformat(),
                s.routine,
                s.routine_title,
                f"{s.duration_s / 60:.1f}",
                s.steps_completed,
                s.steps_total,
                "yes" if s.finished else "no",
                s.source,
                s.settings.get("stage", ""),
                "" if s.pain_before is None else s.pain_before,
                "" if s.pain_after is None else s.pain_after,
                s.note,
            )
        )
    return buf.getvalue()


# -- the chart: laid out once as shapes, drawn as SVG here and as PNG by export.plot ----

Anchor = Literal["start", "middle", "end"]


@dataclass(frozen=True)
class Box:
    """A filled rectangle (a week's minutes)."""

    x: float
    y: float
    width: float
    height: float
    colour: str


@dataclass(frozen=True)
class Line:
    """Joined straight lines (the pain through the weeks, a grid rule)."""

    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 1
    dashed: bool = False
    dots: bool = False
    """A dot at every point."""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    """The baseline."""
    text: str
    colour: str
    anchor: Anchor = "start"
    size: float = 12


Shape = Box | Line | Label


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    shapes: tuple[Shape, ...]
    title: str
    """What it shows, in words (the SVG's title, for screen readers)."""


INK, GRID, MINUTES, PAIN_AFTER, PAIN_BEFORE = "#3c3c3c", "#d8d6cf", "#9cc3d9", "#c0392b", "#e59866"
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 40, 34, 30


def chart(weeks: Sequence[Week], width: int = 640, height: int = 260) -> Chart:
    """Minutes per week as bars (left scale) and the average pain before and after as
    lines (right scale, 0-10), a week a column."""
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    bottom = _TOP + plot_h
    top_minutes = max([10.0, *(w.minutes for w in weeks)])
    step = next(s for s in (5, 10, 15, 30, 60, 120, 300, 600) if top_minutes / s <= 5)
    top_minutes = step * -(-top_minutes // step)
    column = plot_w / max(1, len(weeks))
    shapes: list[Shape] = []
    for i in range(0, int(top_minutes) + 1, step):
        y = bottom - plot_h * i / top_minutes
        shapes.append(Line(((_LEFT, y), (_LEFT + plot_w, y)), GRID))
        shapes.append(Label(_LEFT - 6, y + 4, str(i), INK, "end", 11))
    for pain in range(0, PAIN_TOP + 1, 2):
        y = bottom - plot_h * pain / PAIN_TOP
        shapes.append(Label(_LEFT + plot_w + 6, y + 4, str(pain), PAIN_AFTER, "start", 11))
    for i, w in enumerate(weeks):
        x = _LEFT + column * i
        h = plot_h * w.minutes / top_minutes
        if h > 0:
            shapes.append(Box(x + column * 0.15, bottom - h, column * 0.7, h, MINUTES))
        label = f"{w.monday.day} {w.monday:%b}"
        shapes.append(Label(x + column / 2, bottom + 16, label, INK, "middle", 11))
    for name, colour, dashed in (
        ("pain_before", PAIN_BEFORE, True),
        ("pain_after", PAIN_AFTER, False),
    ):
        run: list[tuple[float, float]] = []
        values: list[float | None] = [getattr(w, name) for w in weeks]
        for i, value in enumerate([*values, None]):
            if value is None:
                if run:
                    shapes.append(Line(tuple(run), colour, 2.5, dashed, dots=True))
                run = []
                continue
            run.append((_LEFT + column * (i + 0.5), bottom - plot_h * value / PAIN_TOP))
    shapes += [
        Label(4, _TOP - 14, "minutes", INK, "start", 11),
        Label(_LEFT + plot_w + 6, _TOP - 14, "pain", PAIN_AFTER, "start", 11),
        Box(_LEFT + 60, _TOP - 24, 12, 10, MINUTES),
        Label(_LEFT + 76, _TOP - 15, "minutes a week", INK),
        Line(((_LEFT + 190, _TOP - 19), (_LEFT + 212, _TOP - 19)), PAIN_AFTER, 2.5),
        Label(_LEFT + 216, _TOP - 15, "pain after (average)", INK),
        Line(((_LEFT + 360, _TOP - 19), (_LEFT + 382, _TOP - 19)), PAIN_BEFORE, 2.5, True),
        Label(_LEFT + 386, _TOP - 15, "pain before", INK),
    ]
    first = weeks[0].monday.isoformat() if weeks else ""
    title = f"Minutes and average pain (0-10) per week, {len(weeks)} weeks from {first}"
    return Chart(width, height, tuple(shapes), title)


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def chart_svg(c: Chart) -> str:
    """The chart as an SVG element: self-contained, no script, no font to fetch (the
    text is in the reader's own sans-serif)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {c.width} {c.height}" '
        f'width="{c.width}" height="{c.height}" role="img" '
        'font-family="system-ui, sans-serif">',
        f"<title>{html.escape(c.title)}</title>",
        # Its own background: readable on a page in a dark colour scheme too.
        f'<rect width="{c.width}" height="{c.height}" fill="#ffffff"/>',
    ]
    for s in c.shapes:
        if isinstance(s, Box):
            out.append(
                f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.width)}" '
                f'height="{_n(s.height)}" fill="{s.colour}"/>'
            )
        elif isinstance(s, Line):
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in s.points)
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{s.colour}" '
                f'stroke-width="{_n(s.width)}"{dash}/>'
            )
            if s.dots:
                out += [
                    f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{s.colour}"/>'
                    for x, y in s.points
                ]
        else:
            out.append(
                f'<text x="{_n(s.x)}" y="{_n(s.y)}" fill="{s.colour}" '
                f'font-size="{_n(s.size)}" text-anchor="{s.anchor}">{html.escape(s.text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


# -- the page for a physiotherapist -----------------------------------------------------

_REPORT_STYLE = """
body { font-family: system-ui, sans-serif; color: #222; max-width: 46rem; margin: 1.5rem auto;
  padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.2rem 0.5rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; } .meta { color: #555; } svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  tr { break-inside: avoid; } }
"""


def trend_words(weeks: Sequence[Week]) -> str:
    """The pain after sessions, earlier weeks against later ones, in words."""
    rated = [w.pain_after for w in weeks if w.pain_after is not None]
    if len(rated) < 2:
        return "Not enough rated sessions yet to see a trend."
    half = len(rated) // 2
    earlier, later = fmean(rated[:half]), fmean(rated[half:])
    change = later - earlier
    if abs(change) < 0.5:
        how = "about the same"
    elif change < 0:
        how = "lower"
    else:
        how = "higher"
    return (
        f"Average pain after sessions: {earlier:.1f} in the earlier rated weeks, "
        f"{later:.1f} in the later ones ({how})."
    )


def report_html(
    sessions: Sequence[Session],
    weeks: Sequence[Week],
    stages: Sequence[tuple[str, str]],
    today: date,
) -> str:
    """One printable page: sessions and minutes per week with the pain chart, the pain
    trend, where each routine's progression stands (`stages`: (routine title, words)),
    and every session with its ratings and notes, newest first."""
    e = html.escape
    week_rows = "".join(
        f"<tr><td>{w.monday.isoformat()}</td><td class=n>{w.sessions}</td>"
        f"<td class=n>{w.minutes:.0f}</td><td class=n>{_average_words(w.pain_before)}</td>"
        f"<td class=n>{_average_words(w.pain_after)}</td></tr>"
        for w in weeks
    )
    stage_rows = "".join(f"<tr><td>{e(t)}</td><td>{e(words)}</td></tr>" for t, words in stages)
    newest = sorted(sessions, key=lambda s: s.started_at, reverse=True)
    session_rows = "".join(
        f"<tr><td>{s.started_at.astimezone():%Y-%m-%d %H:%M}</td><td>{e(s.routine_title)}</td>"
        f"<td class=n>{s.duration_s / 60:.0f}</td><td>{'yes' if s.finished else 'no'}</td>"
        f"<td>{e(pain_words(s))}</td><td>{e(s.note)}</td></tr>"
        for s in newest
    )
    first = min((s.started_at.date() for s in sessions), default=None)
    since = f" since {first.isoformat()}" if first else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Home exercise record, {today.isoformat()}</title>
<style>{_REPORT_STYLE}</style></head><body>
<h1>Home exercise record</h1>
<p class="meta">{len(sessions)} sessions{since}; made {today.isoformat()} by voice_coach.
Pain is the person's own rating on a 0-10 scale, before and after each session.</p>
<h2>Sessions, minutes and pain per week</h2>
{chart_svg(chart(weeks))}
<table><thead><tr><th>week of</th><th>sessions</th><th>minutes</th>
<th>pain before (average)</th><th>pain after (average)</th></tr></thead>
<tbody>{week_rows}</tbody></table>
<h2>Pain trend</h2>
<p>{e(trend_words(weeks))}</p>
<h2>Progression</h2>
{f"<table><tbody>{stage_rows}</tbody></table>" if stages else "<p>No progression in use.</p>"}
<h2>Sessions and notes</h2>
<table><thead><tr><th>when</th><th>routine</th><th>minutes</th><th>finished</th>
<th>pain before → after</th><th>note</th></tr></thead><tbody>{session_rows}</tbody></table>
</body></html>
"""
