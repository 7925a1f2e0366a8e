"""`play` and `devices`: live, hands-free playback."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .. import quickstart
from ..errors import ToolError, VoiceCoachError
from . import app
from .common import (
    RoutineArg,
    SettingsOptions,
    err,
    out,
    plan,
    reported,
    with_settings,
)
from .history import record_session


@app.command()
@with_settings
def play(
    routine: RoutineArg,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue from the start of the step where you last stopped."
        ),
    ] = False,
    device: Annotated[
        Optional[str],
        typer.Option("--device", help="Output device: index or part of its name (see `devices`)."),
    ] = None,
    *,
    opts: SettingsOptions,
) -> None:
    """Play a routine live through the speakers, hands-free.

    Keys (no Enter needed): space pause/resume, n or → next step, b or ← back,
    + / - lengthen or shorten the current hold by 5 s, q quit. Ctrl+C also stops;
    `--resume` continues from the step you stopped in.

    Example: voice-coach play sciatica-relief --resume
    """
    from ..player import KEY_HELP, pick_device, status_line
    from ..player import play as play_live
    from ..prepare import speech_cache
    from ..state import clear_position, load_position, save_position

    with reported():
        p = plan(routine, opts)
        loaded = p.routine
        device_index = pick_device(device)
        cache = speech_cache(p.resolved.voice, opts.cache_dir)
        start_step = 1
        if resume:
            saved = load_position(loaded.source)
            if saved is None:
                err.print("nothing to resume for this routine; starting from the beginning")
            else:
                start_step = saved
                name = (
                    getattr(loaded.steps[saved - 1], "name", "a rest")
                    if 0 < saved <= len(loaded.steps)
                    else "the start"
                )
                err.print(f"resuming at step {saved}: {name}", markup=False)
        live = err.is_terminal
        if sys.stdin.isatty():
            err.print(KEY_HELP, markup=False)

        def show_status(status: object) -> None:
            if live:
                line = status_line(status)  # type: ignore[arg-type]
                err.file.write("\r\x1b[2K" + line[: max(10, err.width - 1)])
                err.file.flush()

        started = datetime.now(UTC)
        result = play_live(loaded, cache, device_index, start_step, on_status=show_status)
        ended = datetime.now(UTC)
        steps_done = len(loaded.steps) if result.finished else max(0, result.step - 1)
        record_session(p, started, ended, steps_done, result.finished)
        if live:
            err.file.write("\r\x1b[2K")
        if result.underruns:
            made_up = (
                f"; {result.lost_ms} ms of silence, {result.caught_up_ms} ms of it made up "
                "in the pauses after"
                if result.lost_ms
                else ""
            )
            err.print(
                f"warning: the sound device ran short of audio {result.underruns} time(s){made_up}",
                markup=False,
            )
        if result.quick_start is False:
            err.print(
                "note: the quick start played outdated audio (an input changed unnoticed); "
                "the next start records it afresh",
                markup=False,
            )
        if result.finished:
            clear_position(loaded.source)
            out.print(f"finished {loaded.title}", markup=False)
        else:
            step = max(1, result.step)
            save_position(loaded.source, step)
            out.print(
                f"stopped in step {step}; continue with: voice-coach play {routine} --resume",
                markup=False,
            )
    if device is None:
        leave_quick_start(routine, opts, resume)
    if not result.finished and result.interrupted:
        raise typer.Exit(130)


def leave_quick_start(routine: str, opts: SettingsOptions, resume: bool) -> None:
    """Record the head the next `voice-coach play` with the same arguments starts with
    (see `quickstart`), now that the history and the position are up to date. Only when
    run as the command, since the next start finds the record by its arguments. A
    failure here only means the next start is a normal one, so it stays quiet."""
    args = quickstart.invocation
    if args is None:
        return
    from ..history import history_path
    from ..player import render_head
    from ..prepare import speech_cache
    from ..profile import default_profile_path
    from ..state import load_position, positions_file

    try:
        p = plan(routine, opts)
        cache = speech_cache(p.resolved.voice, opts.cache_dir)
        start_step = (load_position(p.routine.source) or 1) if resume else 1
        rate, pcm, texts = render_head(p.routine, cache, start_step)
        files = [Path(routine), Path(p.routine.source), opts.profile or default_profile_path()]
        if p.stage.from_history:
            db = history_path()
            files += [db, db.with_name(db.name + "-wal")]
        if resume:
            files.append(positions_file())
        manifest = quickstart.Manifest(
            sample_rate=rate,
            files=[(os.path.abspath(f), quickstart.content_hash(f)) for f in files],
            clips=[
                (os.path.abspath(path), *stamp)
                for path in map(cache.path, texts)
                if (stamp := quickstart.file_stamp(path)) is not None
            ],
            until=p.stage.next_on.isoformat() if p.stage.next_on else None,
            code=quickstart.code_stamp(),
        )
        quickstart.save(quickstart.record_path(args), manifest, pcm)
    except (VoiceCoachError, OSError):
        pass


@app.command()
def devices() -> None:
    """List the sound output devices `play --device` accepts.

    Example: voice-coach devices
    """
    from ..player import output_devices

    with reported():
        found = output_devices()
        if not found:
            raise ToolError(
                "no audio output devices found (is a sound server running?); "
                "`voice-coach export` makes an MP3 instead"
            )
        table = Table("index", "name", "host API", "default", box=None, pad_edge=False)
        for d in found:
            table.add_row(str(d.index), d.name, d.host_api, "yes" if d.default else "")
        out.print(table)
