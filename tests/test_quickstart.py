"""The quick start: records, their manifests, and the hand-over of a running stream.

The stream itself is played for real in tests/integration/test_play_real.py; here a
`Head` is read block by block the way the device callback reads it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES, FakeEngine

from voice_coach import quickstart
from voice_coach.cli import common, play
from voice_coach.loader import load_routine
from voice_coach.model import VoiceSettings
from voice_coach.player import _take_over, render_head
from voice_coach.prepare import speech_cache
from voice_coach.quickstart import Head, Manifest, Started

BLOCK = 441


def options(**changes: Any) -> common.SettingsOptions:
    values = {name: default for name, _, default in common._OPTIONS}
    values.update(hold=[], reps=[])
    values.update(changes)
    return common.SettingsOptions(**values)


@dataclass
class FakeOutput:
    """What `_take_over` uses of an `Output`: its lock and its source."""

    source: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


# -- keys and where records are --------------------------------------------------------


def test_the_key_follows_arguments_folder_and_location_variables() -> None:
    env = {"HOME": "/home/a", "VOICE_COACH_DATA": "/d", "TERM": "xterm"}
    key = quickstart.record_key(["sciatica-relief"], "/w", env)
    assert key == quickstart.record_key(["sciatica-relief"], "/w", {**env, "TERM": "dumb"})
    for other in (
        quickstart.record_key(["sciatica-relief", "--hold", "45"], "/w", env),
        quickstart.record_key(["sciatica-relief"], "/elsewhere", env),
        quickstart.record_key(["sciatica-relief"], "/w", {**env, "HOME": "/home/b"}),
        quickstart.record_key(["sciatica-relief"], "/w", {**env, "VOICE_COACH_DATA": "/e"}),
        quickstart.record_key(["sciatica-relief"], "/w", {**env, "XDG_CONFIG_HOME": "/c"}),
    ):
        assert other != key


def test_records_live_in_the_cache_the_command_uses(tmp_path: Path) -> None:
    env = {"VOICE_COACH_CACHE": str(tmp_path / "env")}
    assert quickstart.cache_root(["r", "--cache-dir", "/c"], env) == Path("/c")
    assert quickstart.cache_root(["r", "--cache-dir=/c2"], env) == Path("/c2")
    assert quickstart.cache_root(["r"], env) == tmp_path / "env"
    path = quickstart.record_path(["r", "--cache-dir", "/c"], "/w", {})
    assert path.parent == Path("/c") / quickstart.FOLDER and path.suffix == ".head"


# -- the record file -------------------------------------------------------------------


def test_a_record_round_trips_and_a_damaged_one_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "q" / "r.head"
    manifest = Manifest(22050, [("/a", "ab"), ("/b", None)], [("/c", 3, 4)], "2026-12-01", "x")
    pcm = bytes(range(200))
    quickstart.save(path, manifest, pcm)
    assert quickstart.load(path) == (manifest, pcm)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left

    data = path.read_bytes()
    for damaged in (
        b"",
        b"something else\n" + data,
        data[: len(quickstart.MAGIC) + 5],  # header cut off
        data + b"\x00",  # half a frame
        data.replace(b'"format":1', b'"format":99'),
        data.replace(b'"sample_rate":22050', b'"sample_rate":"x"'),
    ):
        path.write_bytes(damaged)
        assert quickstart.load(path) is None
    assert quickstart.load(tmp_path / "missing.head") is None


def test_the_manifest_notices_every_kind_of_change(tmp_path: Path) -> None:
    routine, absent, clip = tmp_path / "r.yaml", tmp_path / "absent.yaml", tmp_path / "c.wav"
    routine.write_text("title: A\n")
    clip.write_bytes(b"RIFF....")

    def manifest(**changes: Any) -> Manifest:
        stamp = quickstart.file_stamp(clip)
        assert stamp is not None
        m = Manifest(
            22050,
            files=[(str(routine), quickstart.content_hash(routine)), (str(absent), None)],
            clips=[(str(clip), *stamp)],
            until="2026-12-01",
            code=quickstart.code_stamp(),
        )
        return replace(m, **changes)

    today = date(2026, 11, 24)
    assert manifest().is_current(today)
    assert not manifest().is_current(date(2026, 12, 1))  # the next week's stage
    assert not manifest(code="an older program").is_current(today)

    fresh = manifest()
    routine.write_text("title: A, edited\n")
    assert not fresh.is_current(today)

    fresh = manifest()
    absent.write_text("title: now there is one\n")
    assert not fresh.is_current(today)
    absent.unlink()

    fresh = manifest()
    clip.write_bytes(b"RIFF, synthesized again")
    assert not fresh.is_current(today)
    assert manifest().is_current(today)


# -- the recorded head and the hand-over -----------------------------------------------


def test_a_head_plays_its_frames_then_silence() -> None:
    head = Head(bytes(range(1, 9)))  # 4 frames
    assert head.read(3) == bytes(range(1, 7))
    assert head.read(3) == bytes([7, 8]) + bytes(4)
    assert head.read(2) == bytes(4)
    assert head.position == 8 and head.total_frames == 4 and not head.finished


@pytest.fixture
def full(fake_engine: type[FakeEngine], cache_dir: Path) -> Any:
    routine = load_routine(ROUTINES / "full.yaml")
    return routine, speech_cache(routine.voice.merged(VoiceSettings()), cache_dir)


@pytest.mark.parametrize("blocks", [0, 1, 37, 400])
def test_the_player_takes_over_at_the_frame_the_head_reached(full: Any, blocks: int) -> None:
    routine, cache = full
    rate, reference, _ = render_head(routine, cache, seconds=30)
    _, pcm, texts = render_head(routine, cache, seconds=5)
    assert pcm == reference[: len(pcm)] and texts

    head = Head(pcm)
    played = b"".join(head.read(BLOCK) for _ in range(blocks))
    session, _ = _session(routine, cache)
    output = FakeOutput(head)
    same, gap = _take_over(Started(output, head), session)  # type: ignore[arg-type]
    assert same
    assert gap == max(0, blocks * BLOCK - head.total_frames)
    played += b"".join(output.source.read(BLOCK) for _ in range(200))
    # Whatever the hand-over point, the device heard the routine without a seam; a
    # head that ran out is followed by silence, then the routine from where it ended.
    if gap == 0:
        assert played == reference[: len(played)]
    else:
        heard = played[: len(pcm)] + played[len(pcm) + gap * 2 :]
        assert played[len(pcm) : len(pcm) + gap * 2] == bytes(gap * 2)
        assert heard == reference[: len(heard)]
    assert rate == session.sample_rate


def _session(routine: Any, cache: Any) -> Any:
    from voice_coach.player import load_ahead, new_session

    session, texts = new_session(routine, cache)
    load_ahead(session, cache, texts, 10 * session.sample_rate)
    return session, texts


def test_an_outdated_head_is_noticed_at_the_hand_over(full: Any) -> None:
    routine, cache = full
    _, pcm, _ = render_head(routine, cache, seconds=5)
    head = Head(bytes(len(pcm)))  # silence where the routine speaks
    for _ in range(60):
        head.read(BLOCK)
    session, _ = _session(routine, cache)
    same, _ = _take_over(Started(FakeOutput(head), head), session)  # type: ignore[arg-type]
    assert not same


def test_render_head_starts_where_play_starts(full: Any) -> None:
    routine, cache = full
    rate, from_start, _ = render_head(routine, cache, seconds=3)
    _, resumed, _ = render_head(routine, cache, start_step=3, seconds=3)
    assert len(from_start) == len(resumed) == 3 * rate * 2
    assert from_start != resumed


# -- what `play` leaves for the next start -----------------------------------------


def test_play_leaves_a_record_only_when_run_as_the_command(
    full: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = str(ROUTINES / "full.yaml")
    monkeypatch.setattr(quickstart, "invocation", None)
    play.leave_quick_start(name, options(), resume=False)
    assert not (cache_dir / quickstart.FOLDER).exists()

    args = [name, "--hold", "20"]
    monkeypatch.setattr(quickstart, "invocation", args)
    play.leave_quick_start(name, options(hold=["20"]), resume=False)
    found = quickstart.load(quickstart.record_path(args))
    assert found is not None
    manifest, pcm = found
    assert manifest.is_current()
    assert (os.path.abspath(name), quickstart.content_hash(Path(name))) in manifest.files
    assert manifest.clips and all(Path(c).is_relative_to(cache_dir) for c, _, _ in manifest.clips)
    p = common.plan(name, options(hold=["20"]))
    _, expected, _ = render_head(p.routine, speech_cache(p.resolved.voice, None))
    assert pcm == expected


def test_a_record_for_resume_depends_on_the_saved_position(
    full: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_coach.state import save_position

    name = str(ROUTINES / "full.yaml")
    args = [name, "--resume"]
    monkeypatch.setattr(quickstart, "invocation", args)
    save_position(str(ROUTINES / "full.yaml"), 3)
    play.leave_quick_start(name, options(), resume=True)
    found = quickstart.load(quickstart.record_path(args))
    assert found is not None and found[0].is_current()
    routine, cache = full
    assert found[1] == render_head(routine, cache, start_step=3)[1]
    save_position(str(ROUTINES / "full.yaml"), 2)
    assert not found[0].is_current()


def test_no_record_is_looked_up_when_turned_off_or_for_another_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(quickstart, "invocation", None)  # restored after the test
    looked: list[Path] = []
    monkeypatch.setattr(quickstart, "load", lambda path: looked.append(path))
    monkeypatch.setenv(quickstart.OFF_ENV_VAR, "0")
    assert not quickstart.begin(["sciatica-relief"])
    assert quickstart.invocation == ["sciatica-relief"]  # records are still left
    monkeypatch.delenv(quickstart.OFF_ENV_VAR)
    assert not quickstart.begin(["sciatica-relief", "--device", "2"])
    assert not quickstart.begin(["sciatica-relief", "--device=usb"])
    assert looked == []
    assert not quickstart.begin(["sciatica-relief"])  # no record there
    assert len(looked) == 1


def test_take_hands_the_stream_over_once_and_closes_one_that_does_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[int] = []

    class Stream:
        sample_rate = 22050

        def close(self) -> None:
            closed.append(1)

    head = Head(bytes(4))
    monkeypatch.setattr(quickstart, "_started", Started(Stream(), head))  # type: ignore[arg-type]
    taken = quickstart.take(22050, None)
    assert taken is not None and taken.head is head
    assert quickstart.take(22050, None) is None
    for rate, device in ((44100, None), (22050, 3)):
        monkeypatch.setattr(quickstart, "_started", Started(Stream(), head))  # type: ignore[arg-type]
        assert quickstart.take(rate, device) is None
    assert len(closed) == 2
    monkeypatch.setattr(quickstart, "_started", Started(Stream(), head))  # type: ignore[arg-type]
    quickstart.discard()
    assert len(closed) == 3 and quickstart._started is None


def test_time_lost_while_the_head_played_is_made_up_by_the_player(full: Any) -> None:
    routine, cache = full
    _, pcm, _ = render_head(routine, cache, seconds=5)
    head = Head(pcm)
    head.read(BLOCK)
    head.catch_up(2205)
    session, _ = _session(routine, cache)
    _take_over(Started(FakeOutput(head), head), session)  # type: ignore[arg-type]
    while session.caught_up_frames < 2205 and not session.finished:
        session.read(BLOCK)
    assert session.caught_up_frames == 2205


def test_only_the_latest_records_are_kept(tmp_path: Path) -> None:
    manifest = Manifest(22050)
    for i in range(quickstart.KEEP + 3):
        path = tmp_path / f"{i:02d}.head"
        quickstart.save(path, manifest, b"")
        os.utime(path, ns=(i * 10**9, i * 10**9))
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == quickstart.KEEP
    assert kept[-1] == f"{quickstart.KEEP + 2:02d}.head"


PROGRESSIVE = """\
title: Build up
progression:
  hold: {start: 20, add: 5, every: session, max: 40}
steps:
  - name: Reach
    hold: 30
"""


def test_a_record_follows_the_history_when_a_progression_counts_sessions(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from voice_coach.cli import app

    routine = tmp_path / "build-up.yaml"
    routine.write_text(PROGRESSIVE)
    args = [str(routine), "--engine", "fake"]
    monkeypatch.setattr(quickstart, "invocation", args)
    play.leave_quick_start(str(routine), options(engine="fake"), resume=False)
    found = quickstart.load(quickstart.record_path(args))
    assert found is not None and found[0].is_current()
    logged = CliRunner().invoke(app, ["log", str(routine), "--engine", "fake"])
    assert logged.exit_code == 0, logged.output
    assert not found[0].is_current()  # one more session: the next stage's holds
