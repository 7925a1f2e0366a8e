"""The one-page card: what it says of a routine as the person's settings make it, and
the routine it carries in a QR code. (Printed by a real browser and its QR codes read
back: tests/integration/test_card_print.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROUTINES, FakeEngine, word_ms
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.card import CARD_CSS, CardLinks, card_html, dose, short_script
from voice_coach.plan import make_plan
from voice_coach.routine.loader import parse_routine
from voice_coach.routine.model import Exercise, Rest
from voice_coach.settings.words import Choices
from voice_coach.timefmt import length
from voice_coach.timeline import build_timeline


def test_card_says_each_step_as_the_settings_make_it() -> None:
    plan = make_plan("sciatica-relief", Choices.of(hold=["Knee hug=50"], reps=["3=2"]))
    timeline = build_timeline(plan.routine, word_ms)
    page = card_html(plan.routine, timeline)
    assert f"<h1>{'Sciatica relief routine'}</h1>" in page
    assert f"Total time: about {length(timeline.total_ms)}" in page
    assert "check with your doctor" in page  # the routine's safety note, its intro
    doses = re.findall(r'<span class="dose">([^<]*)</span>', page)
    assert doses == [
        "hold 60 s, each side (right first)",
        "hold 30 s, 2 times",
        "hold 30 s",
        "hold 50 s",
    ]
    assert "Cross your right leg over your left leg." in page  # {side} for the first side
    assert page.count('<li class="rest">') == 3


def test_doses_of_flows_counts_and_one_side() -> None:
    routine = parse_routine((ROUTINES / "paced.yaml").read_text())
    assert [dose(s) for s in routine.exercises] == [
        "2 rounds of 2 breaths (15 s)",
        "count 3, one every 2.5 s, each side (right first), 2 times a side",
    ]


def test_the_routine_itself_fits_in_a_qr_code_and_reads_back() -> None:
    plan = make_plan("sciatica-relief", Choices.of(hold=45))
    text = short_script(plan.routine)
    assert text is not None and len(text.encode()) <= 1000
    again = parse_routine(text)
    assert again.title == plan.routine.title

    def shape(steps: tuple[Exercise | Rest, ...]) -> list[object]:
        return [
            ("rest", s.rest_s) if isinstance(s, Rest) else (s.name, s.hold_s, s.sides, s.reps)
            for s in steps
        ]

    assert shape(again.steps) == shape(plan.routine.steps)
    assert short_script(plan.routine, max_bytes=50) is None


def test_links_become_qr_codes_only_when_given() -> None:
    plan = make_plan("sciatica-relief")
    timeline = build_timeline(plan.routine, word_ms)
    assert card_html(plan.routine, timeline).count("<figure") == 1  # the routine itself
    served = card_html(plan.routine, timeline, CardLinks("http://h:1/", "http://h:1/a.mp3"))
    assert served.count("<figure") == 3


def test_black_and_white_only() -> None:
    colours = set(re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\([^)]*\)", CARD_CSS))
    assert colours <= {"#000", "#fff"}
    assert "background:" not in CARD_CSS.replace("background: #fff", "")


def test_card_command_writes_the_card(
    tmp_path: Path, fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    out = tmp_path / "card.html"
    result = CliRunner().invoke(
        app, ["card", "sciatica-relief", "--engine", "fake", "-o", str(out), "--page", "http://x/"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    assert out.read_text().count("<figure") == 2
    bad = CliRunner().invoke(app, ["card", "nope", "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 2
    assert not (tmp_path / "x.html").exists()
