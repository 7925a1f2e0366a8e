"""The export key: a hash of everything an export depends on, none of it listed by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES

from voice_coach.export import key as key_module
from voice_coach.export.key import export_key
from voice_coach.routine.loader import load_routine
from voice_coach.routine.model import Bed, Exercise, Routine
from voice_coach.speech import ResolvedVoice


def test_the_export_key_follows_every_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Derived from the routine as it will play, whatever layer set each value: a new
    setting changes the key without anyone adding it to a list."""
    voice = ResolvedVoice("fake", "1", "tone", 160, 1.0)
    routine = load_routine(ROUTINES / "minimal.yaml")
    step = routine.steps[0]
    assert isinstance(step, Exercise)

    def key(r: Routine = routine, stage: str = "", **kw: Any) -> str:
        args = {"voice": voice, "fmt": "mp3", "bitrate_kbps": 64, "split": False, **kw}
        return export_key(r, stage, **args)

    def with_step(**changes: Any) -> Routine:
        return dataclasses.replace(routine, steps=(dataclasses.replace(step, **changes),))

    base = key()
    assert base == key()
    changed = [
        key(dataclasses.replace(routine, title="Other")),
        key(with_step(hold_s=45)),
        key(with_step(settle_s=6)),
        key(with_step(cues=dataclasses.replace(step.cues, countdown=5))),
        key(stage="Week 2"),
        key(voice=ResolvedVoice("fake", "2", "tone", 160, 1.0)),
        key(fmt="ogg"),
        key(bitrate_kbps=96),
        key(split=True),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    monkeypatch.setattr(key_module, "code_identity", lambda: "another program")
    assert key() != base


def test_where_a_setting_was_written_is_not_part_of_the_key() -> None:
    """Moving a line in a script or profile changes no export."""
    voice = ResolvedVoice("fake", "1", "tone", 160, 1.0)
    routine = load_routine(ROUTINES / "minimal.yaml")
    moved = dataclasses.replace(routine, bed=Bed("rain", where="profile.yaml:3"))
    again = dataclasses.replace(routine, bed=Bed("rain", where="profile.yaml:9"))
    assert export_key(moved, "", voice, "mp3", 64, False) == export_key(
        again, "", voice, "mp3", 64, False
    )


def test_a_bed_file_changed_in_place_changes_the_key(tmp_path: Path) -> None:
    voice = ResolvedVoice("fake", "1", "tone", 160, 1.0)
    music = tmp_path / "calm.wav"
    music.write_bytes(b"one")
    routine = dataclasses.replace(
        load_routine(ROUTINES / "minimal.yaml"), bed=Bed("file", path=str(music))
    )
    before = export_key(routine, "", voice, "mp3", 64, False)
    assert export_key(routine, "", voice, "mp3", 64, False) == before
    music.write_bytes(b"other music")
    assert export_key(routine, "", voice, "mp3", 64, False) != before
