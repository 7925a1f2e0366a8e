"""Instruction text split for the ear, on paragraphs as people paste them: a
physiotherapy sheet, an exercise database's numbered steps, a bulleted note."""

from __future__ import annotations

import pytest

from voice_coach.routine.model import MAX_TEXT_CHARS
from voice_coach.routine.textsplit import LONG_SENTENCE_CHARS, UnbreakableText, split_for_speech

PELVIC_TILT = (
    "Lie on your back with your knees bent and your feet flat on the floor, hip-width "
    "apart. Place your hands on your hip bones. Gently tighten your stomach muscles and "
    "press the small of your back into the floor; your pelvis will tilt backwards slightly "
    "and your bottom should stay on the floor. Hold for 5 seconds, breathing normally, then "
    "relax. Repeat 10 times. Stop if you feel any pain in your back or down your leg."
)
"""A physiotherapy sheet: sentences, one of them two clauses joined by a semicolon."""

SEATED_HAMSTRING = """\
1. Sit on the edge of a chair with your back straight and both feet flat on the floor.
2. Straighten your right leg out in front of you, resting the heel on the floor with the \
toes pointing up.
3. Keeping your back straight, lean forward from the hips until you feel a gentle stretch \
along the back of the thigh \u2013 do not round your shoulders or reach with your arms, since \
that takes the stretch away from the hamstring and into the lower back, which is what you \
want to avoid.
4. Hold, then return slowly to sitting upright.
"""
"""An exercise database's numbered steps (a YAML block scalar), one step far too long."""

BULLETED = """\
Before you start:
- Wear loose clothing.
- Have a firm chair nearby

If your leg tingles or goes numb, stop and rest."""


def test_a_physiotherapy_paragraph_is_spoken_a_sentence_at_a_time() -> None:
    assert split_for_speech(PELVIC_TILT) == (
        "Lie on your back with your knees bent and your feet flat on the floor, hip-width apart.",
        "Place your hands on your hip bones.",
        "Gently tighten your stomach muscles and press the small of your back into the floor;",
        "your pelvis will tilt backwards slightly and your bottom should stay on the floor.",
        "Hold for 5 seconds, breathing normally, then relax.",
        "Repeat 10 times.",
        "Stop if you feel any pain in your back or down your leg.",
    )


def test_numbered_steps_keep_their_numbers_and_a_long_one_breaks_at_its_clauses() -> None:
    assert split_for_speech(SEATED_HAMSTRING) == (
        "1. Sit on the edge of a chair with your back straight and both feet flat on the floor.",
        "2. Straighten your right leg out in front of you, resting the heel on the floor with "
        "the toes pointing up.",
        "3. Keeping your back straight, lean forward from the hips until you feel a gentle "
        "stretch along the back of the thigh \u2013",
        "do not round your shoulders or reach with your arms, since that takes the stretch "
        "away from the hamstring and into the lower back,",
        "which is what you want to avoid.",
        "4. Hold, then return slowly to sitting upright.",
    )


def test_bullets_and_paragraphs_start_new_lines_and_bullet_signs_are_not_spoken() -> None:
    assert split_for_speech(BULLETED) == (
        "Before you start:",
        "Wear loose clothing.",
        "Have a firm chair nearby",
        "If your leg tingles or goes numb, stop and rest.",
    )


def test_abbreviations_and_lower_case_words_do_not_end_a_sentence() -> None:
    text = (
        "Loop a strap (e.g. a belt or a towel) around your foot. Ask Dr. Patel before adding "
        "weight. Hold approx. 30 sec. Then rest! Ready? Begin\u2026 Now."
    )
    assert split_for_speech(text) == (
        "Loop a strap (e.g. a belt or a towel) around your foot.",
        "Ask Dr. Patel before adding weight.",
        "Hold approx. 30 sec.",
        "Then rest!",
        "Ready?",
        "Begin\u2026",
        "Now.",
    )


def test_other_languages_split_the_same_way() -> None:
    text = (
        "Legen Sie sich auf den R\u00fccken. Ziehen Sie z.B. ein Knie zur Brust. "
        "Halten Sie ca. 30 Sekunden."
    )
    assert split_for_speech(text) == (
        "Legen Sie sich auf den R\u00fccken.",
        "Ziehen Sie z.B. ein Knie zur Brust.",
        "Halten Sie ca. 30 Sekunden.",
    )


def test_a_dash_between_words_is_a_clause_break_in_a_long_sentence() -> None:
    text = (
        "Keep your back straight\u2014do not let it arch while the leg rises slowly toward the "
        "ceiling, with the knee soft, the foot relaxed and the other leg long on the floor."
    )
    assert split_for_speech(text) == (
        "Keep your back straight\u2014",
        "do not let it arch while the leg rises slowly toward the ceiling, with the knee soft, "
        "the foot relaxed and the other leg long on the floor.",
    )


@pytest.mark.parametrize("text", [PELVIC_TILT, SEATED_HAMSTRING, BULLETED])
def test_nothing_is_lost_and_the_split_is_deterministic(text: str) -> None:
    pieces = split_for_speech(text)
    assert split_for_speech(text) == pieces
    assert "".join("".join(pieces).split()) == "".join(text.replace("- ", "").split())
    assert all(p == " ".join(p.split()) and p for p in pieces)


def test_no_piece_of_a_breakable_text_is_longer_than_a_long_sentence() -> None:
    pieces = split_for_speech(" ".join([PELVIC_TILT, SEATED_HAMSTRING] * 6))
    assert max(map(len, pieces)) <= LONG_SENTENCE_CHARS


def test_a_short_text_is_one_line_as_written() -> None:
    assert split_for_speech("  Breathe slowly,\n  and relax  ") == ("Breathe slowly, and relax",)
    assert split_for_speech(" \n ") == ()


def test_an_unbreakable_run_is_refused_with_its_start() -> None:
    run = " ".join(["And then"] + ["and then"] * 39)  # 319 characters, no punctuation
    with pytest.raises(UnbreakableText) as caught:
        split_for_speech(f"Lie down. {run}. Relax.")
    assert caught.value.run == run + "."
    assert len(caught.value.run) > MAX_TEXT_CHARS
    # Up to the limit it is only a long line.
    fits = " ".join(["and then"] * 33)
    assert split_for_speech(fits) == (fits,)
