"""The history over time: weekly pain and minutes, CSV, the chart (SVG and PNG), the
report for a physiotherapist, and `history` printing them."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.plot import chart_png
from voice_coach.history import History, Session
from voice_coach.progress import (
    MINUTES,
    Box,
    Label,
    Line,
    chart,
    chart_svg,
    csv_text,
    pain_words,
    report_html,
    trend_words,
    weeks_of,
    weeks_since_first,
)

runner = CliRunner()
TODAY = date(2026, 12, 9)  # a Wednesday
SVG = "{http://www.w3.org/2000/svg}"


def done(
    day: date,
    minutes: float = 10,
    before: int | None = None,
    after: int | None = None,
    note: str = "",
    finished: bool = True,
    completed: int = 3,
) -> Session:
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    return Session(
        None,
        "piriformis-stretch",
        "Piriformis stretch",
        {"stage": 2},
        start,
        start + timedelta(minutes=minutes),
        completed,
        3,
        finished,
        "play",
        before,
        after,
        note,
    )


SESSIONS = [
    done(date(2026, 11, 23), 10, 6, 5),
    done(date(2026, 11, 25), 12, 5, 3),
    done(date(2026, 11, 30), 8, 4, None),
    done(date(2026, 12, 2), 10, None, None),
    done(date(2026, 12, 8), 6, 3, 1, "better; a <b>little</b> stiff"),
    done(date(2026, 12, 8), 1, 9, 9, finished=False, completed=0),  # not practice
]


def test_weeks_average_the_ratings_given_and_count_the_practice() -> None:
    weeks = weeks_of(SESSIONS, TODAY, 4)
    assert [w.monday for w in weeks] == [
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    assert [(w.sessions, w.minutes) for w in weeks] == [(0, 0), (2, 22), (2, 18), (1, 6)]
    assert [(w.pain_before, w.pain_after) for w in weeks] == [
        (None, None),
        (5.5, 4.0),
        (4.0, None),
        (3.0, 1.0),
    ]
    assert [w.ratings for w in weeks] == [0, 2, 1, 1]


def test_pain_words() -> None:
    assert [pain_words(s) for s in SESSIONS[:4]] == ["6 → 5", "5 → 3", "4 → ?", ""]


def test_the_csv_has_every_session_oldest_first_and_reads_back() -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text(list(reversed(SESSIONS))))))
    assert len(rows) == len(SESSIONS)
    assert rows[0]["started_at"] == "2026-11-23T08:00:00+00:00"
    assert (rows[0]["pain_before"], rows[0]["pain_after"], rows[0]["stage"]) == ("6", "5", "2")
    assert (rows[2]["pain_after"], rows[3]["pain_before"]) == ("", "")
    assert "better; a <b>little</b> stiff" in {row["note"] for row in rows}


def test_the_chart_is_an_svg_with_no_script_font_or_link() -> None:
    svg = chart_svg(chart(weeks_of(SESSIONS, TODAY, 4)))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "rect", "polyline", "circle", "text"}
    assert "href" not in svg and "@font-face" not in svg and "url(" not in svg
    bars = [
        el
        for el in root.iter(f"{SVG}rect")
        if el.get("fill") == MINUTES and float(el.get("height", 0)) > 20
    ]
    assert len(bars) == 3  # three weeks with practice (the legend's swatch is smaller)
    labels = [el.text for el in root.iter(f"{SVG}text")]
    assert "23 Nov" in labels and "pain after (average)" in labels


def test_the_pain_lines_break_where_a_week_has_no_rating() -> None:
    c = chart(weeks_of(SESSIONS, TODAY, 4))
    after = [s for s in c.shapes if isinstance(s, Line) and s.dots and not s.dashed]
    # Rated after: weeks 2 and 4, with week 3 unrated between them: two runs of one point.
    assert [len(line.points) for line in after] == [1, 1]
    before = [s for s in c.shapes if isinstance(s, Line) and s.dots and s.dashed]
    assert [len(line.points) for line in before] == [3]
    # Higher pain is higher up: 5.5 before in week 2 sits above 3.0 in week 4.
    assert before[0].points[0][1] < before[0].points[2][1]


def test_the_chart_as_png_is_the_same_layout() -> None:
    c = chart(weeks_of(SESSIONS, TODAY, 4))
    image = Image.open(io.BytesIO(chart_png(c, scale=1)))
    assert image.size == (c.width, c.height)
    box = next(s for s in c.shapes if isinstance(s, Box) and s.height > 20)
    inside = image.getpixel((round(box.x + box.width / 2), round(box.y + box.height / 2)))
    assert inside == (0x9C, 0xC3, 0xD9)
    assert any(isinstance(s, Label) for s in c.shapes)


def test_trend_words() -> None:
    assert trend_words(weeks_of(SESSIONS, TODAY, 4)) == (
        "Average pain after sessions: 4.0 in the earlier rated weeks, 1.0 in the later "
        "ones (lower)."
    )
    assert trend_words(weeks_of(SESSIONS[:1], TODAY, 4)).startswith("Not enough")


def test_the_report_is_one_page_with_weeks_trend_stage_and_notes() -> None:
    weeks = weeks_of(SESSIONS, TODAY, weeks_since_first(SESSIONS, TODAY))
    assert len(weeks) == 8  # at least eight weeks, though the first session is 3 weeks back
    page = report_html(SESSIONS, weeks, [("Piriformis stretch", "stage 2 of 6: ...")], TODAY)
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "better; a &lt;b&gt;little&lt;/b&gt; stiff" in page
    assert "stage 2 of 6: ..." in page and "(lower)" in page and "<svg" in page
    assert "@media print" in page


def test_history_prints_pain_and_the_weekly_average(private_user_dirs: Path) -> None:
    now = datetime.now(UTC).date()
    with History.open() as h:
        h.record(done(now, 10, 4, 2, "ok"))
        h.record(done(now - timedelta(days=1), 10, 6, 6))
    out = runner.invoke(app, ["history"]).output
    assert "pain" in out.splitlines()[0] and "4 → 2" in out and "6 → 6" in out
    assert "week of     sessions  minutes  pain before → after" in out
    monday = now - timedelta(days=now.weekday())
    yesterday_counts = (now - timedelta(days=1)) >= monday
    expected = "5.0 → 4.0" if yesterday_counts else "4.0 → 2.0"
    assert any(
        line.startswith(monday.isoformat()) and expected in line for line in out.splitlines()
    )


def test_history_csv_plot_and_report(private_user_dirs: Path, tmp_path: Path) -> None:
    with History.open() as h:
        for s in SESSIONS:
            h.record(s)
    result = runner.invoke(app, ["history", "--csv"])
    assert result.exit_code == 0 and result.stdout.startswith("started_at,ended_at,")
    assert len(result.stdout.splitlines()) == len(SESSIONS) + 1
    png, page = tmp_path / "pain.png", tmp_path / "report.html"
    result = runner.invoke(app, ["history", "--plot", str(png), "--report", str(page)])
    assert result.exit_code == 0, result.output
    assert Image.open(png).format == "PNG"
    assert "Home exercise record" in page.read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_is_a_one_line_error(
    private_user_dirs: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    result = runner.invoke(app, ["history", "--report", str(tmp_path / "file" / "r.html")])
    assert result.exit_code != 0
    assert "cannot write" in result.output and "Traceback" not in result.output
