"""The `voice-coach` command: parse arguments, call the core, print.

Errors from the core arrive as `VoiceCoachError`; here, and only here, they become
a one-line message on stderr and an exit code (2 for bad input, 1 otherwise).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .errors import Problem, ToolError, ValidationError, VoiceCoachError
from .export import BITRATES_KBPS, FORMATS, Tags, default_export_path, export_audio
from .library import bundled_routines, find_routine
from .loader import load_routine
from .model import Routine, VoiceSettings
from .prepare import Prepared, prepare, settings_comment

app = typer.Typer(
    name="voice-coach",
    help="Voice-guided stretching and exercise routines: spoken, timed cues from a YAML "
    "script, exported to MP3 for your phone.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")

# -- shared options ----------------------------------------------------------------

EngineOpt = Annotated[
    Optional[str],
    typer.Option("--engine", help="Speech engine (default: pyttsx3, which uses espeak-ng)."),
]
VoiceOpt = Annotated[
    Optional[str], typer.Option("--voice", help="Voice id, name or language code, e.g. en-us.")
]
RateOpt = Annotated[
    Optional[int],
    typer.Option(
        "--rate", min=80, max=450, help="Speaking rate in words per minute (default 160)."
    ),
]
VolumeOpt = Annotated[
    Optional[float], typer.Option("--volume", min=0.0, max=1.0, help="Speech volume, 0.0 to 1.0.")
]
CacheOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--cache-dir",
        envvar="VOICE_COACH_CACHE",
        help="Where synthesized cues are kept (default: ./audio_cache in a checkout).",
    ),
]
RoutineArg = Annotated[
    str,
    typer.Argument(
        help="A routine file, or the name of a bundled routine (see `voice-coach list`).",
        show_default=False,
    ),
]


def _fail(exc: VoiceCoachError) -> typer.Exit:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False)
        n = len(exc.problems)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)
    return typer.Exit(exc.exit_code)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn our errors and Ctrl+C into a message and an exit code, never a traceback."""
    try:
        yield
    except VoiceCoachError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written.")
        raise typer.Exit(130) from None


def _load(name: str) -> Routine:
    return load_routine(find_routine(name))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _prepare(
    routine: Routine, voice: VoiceSettings, cache_dir: Path | None, progress: Progress | None = None
) -> Prepared:
    callback: Callable[[int, int], None] | None = None
    if progress is not None:
        task = progress.add_task("Synthesizing cues", total=None)

        def callback(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

    prepared = prepare(routine, voice, cache_dir, progress=callback)
    for warning in prepared.timeline.warnings:
        err.print(f"warning: {warning}", markup=False)
    return prepared


def _clock(ms: int) -> str:
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:04.1f}"


def _length(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


# -- commands ----------------------------------------------------------------------


@app.command("list")
def list_routines() -> None:
    """List the bundled routines.

    Example: voice-coach list
    """
    with _reported():
        table = Table("name", "title", "steps", box=None, pad_edge=False)
        for name, path in bundled_routines().items():
            try:
                routine = load_routine(path)
                table.add_row(name, routine.title, str(len(routine.steps)))
            except ValidationError:
                table.add_row(name, "(invalid: run voice-coach validate)", "")
        out.print(table)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Routine files or bundled names.")],
) -> None:
    """Check routine scripts without speaking anything; list every problem.

    Example: voice-coach validate scripts/*.yaml
    """
    problems: list[Problem] = []
    for name in files:
        try:
            routine = _load(name)
            out.print(f"ok: {routine.source} ({len(routine.steps)} steps)", markup=False)
        except ValidationError as exc:
            problems += exc.problems
        except VoiceCoachError as exc:
            problems.append(Problem(name, None, "", str(exc)))
    if problems:
        raise _fail(ValidationError(problems))


@app.command()
def show(
    routine: RoutineArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    engine: EngineOpt = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    volume: VolumeOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Show the timeline: every cue with its start time.

    Example: voice-coach show sciatica-relief --json
    """
    with _reported():
        loaded = _load(routine)
        settings = VoiceSettings(engine, voice, rate, volume)
        with _progress() as progress:
            prepared = _prepare(loaded, settings, cache_dir, progress)
        tl = prepared.timeline
        if as_json:
            sys.stdout.write(json.dumps(tl.to_json(), indent=2, ensure_ascii=False) + "\n")
            return
        v = prepared.voice
        out.print(
            f"{tl.title}: {_length(tl.total_ms)}, {len(loaded.exercises)} exercises, "
            f"{len(tl.holds)} holds",
            markup=False,
        )
        out.print(f"voice: {v.engine} {v.voice}, {v.rate_wpm} wpm", markup=False)
        table = Table("start", "length", "step", "cue", "text", box=None, pad_edge=False)
        for e in tl.events:
            table.add_row(
                _clock(e.start_ms),
                f"{e.duration_ms / 1000:.1f}s",
                "" if e.step is None else str(e.step),
                e.kind,
                e.text if e.is_speech else f"({e.text} chime)",
            )
        out.print(table)


@app.command()
def export(
    routine: RoutineArg,
    output: Annotated[
        Optional[Path],
        typer.Option("-o", "--output", help="File to write (default: exports/NAME.FORMAT)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "mp3",
    bitrate: Annotated[
        Optional[int],
        typer.Option("--bitrate", help="kbit/s for compressed formats (default 64: mono speech)."),
    ] = None,
    engine: EngineOpt = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    volume: VolumeOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Export a routine to an audio file (MP3 with chapters by default).

    Example: voice-coach export sciatica-relief -o ~/Music/sciatica.mp3
    """
    with _reported():
        problems = []
        if fmt not in FORMATS:
            problems.append(
                Problem(
                    "--format", None, "", f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}"
                )
            )
        elif bitrate is not None and FORMATS[fmt].default_kbps is None:
            problems.append(
                Problem("--bitrate", None, "", f"does not apply to {fmt} (uncompressed)")
            )
        if bitrate is not None and bitrate not in BITRATES_KBPS:
            problems.append(
                Problem(
                    "--bitrate",
                    None,
                    "",
                    f"{bitrate} is not allowed; allowed: {', '.join(map(str, BITRATES_KBPS))}",
                )
            )
        if problems:
            raise ValidationError(problems)
        loaded = _load(routine)
        target = output or default_export_path(loaded.slug, fmt)
        settings = VoiceSettings(engine, voice, rate, volume)
        with _progress() as progress:
            prepared = _prepare(loaded, settings, cache_dir, progress)
            task = progress.add_task("Encoding", total=None)
            tags = Tags(title=loaded.title, comment=settings_comment(prepared))
            export_audio(
                prepared.timeline,
                prepared.clips,
                prepared.sample_rate,
                target,
                fmt,
                bitrate,
                tags,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        size_mb = target.stat().st_size / 1e6
        out.print(
            f"wrote {target} ({_length(prepared.timeline.total_ms)}, {size_mb:.1f} MB, "
            f"{len(prepared.timeline.chapters)} chapters)",
            markup=False,
        )


@app.command()
def play(
    routine: RoutineArg,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue from the start of the step where you last stopped.")] = False,
    device: Annotated[Optional[str], typer.Option(
        "--device", help="Output device: index or part of its name (see `devices`).")] = None,
    engine: EngineOpt = None, voice: VoiceOpt = None, rate: RateOpt = None,
    volume: VolumeOpt = None, cache_dir: CacheOpt = None,
) -> None:
    """Play a routine live through the speakers, hands-free.

    Keys (no Enter needed): space pause/resume, n or → next step, b or ← back,
    + / - lengthen or shorten the current hold by 5 s, q quit. Ctrl+C also stops;
    `--resume` continues from the step you stopped in.

    Example: voice-coach play sciatica-relief --resume
    """
    from .cache import SpeechCache, default_cache_dir
    from .player import KEY_HELP, pick_device, status_line
    from .player import play as play_live
    from .speech import get_engine
    from .state import clear_position, load_position, save_position

    with _reported():
        loaded = _load(routine)
        device_index = pick_device(device)
        settings = loaded.voice.merged(VoiceSettings(engine, voice, rate, volume))
        speech_engine = get_engine(settings.engine)
        cache = SpeechCache(cache_dir or default_cache_dir(), speech_engine,
                            speech_engine.resolve(settings))
        start_step = 1
        if resume:
            saved = load_position(loaded.source)
            if saved is None:
                err.print("nothing to resume for this routine; starting from the beginning")
            else:
                start_step = saved
                name = getattr(loaded.steps[saved - 1], "name", "a rest") \
                    if 0 < saved <= len(loaded.steps) else "the start"
                err.print(f"resuming at step {saved}: {name}", markup=False)
        live = err.is_terminal
        if sys.stdin.isatty():
            err.print(KEY_HELP, markup=False)

        def show_status(status: object) -> None:
            if live:
                line = status_line(status)  # type: ignore[arg-type]
                err.file.write("\r\x1b[2K" + line[: max(10, err.width - 1)])
                err.file.flush()

        result = play_live(loaded, cache, device_index, start_step, on_status=show_status)
        if live:
            err.file.write("\r\x1b[2K")
        if result.underruns:
            err.print(f"warning: the sound device ran short of audio {result.underruns} "
                      "time(s); cues may have been late", markup=False)
        if result.finished:
            clear_position(loaded.source)
            out.print(f"finished {loaded.title}", markup=False)
            return
        step = max(1, result.step)
        save_position(loaded.source, step)
        out.print(f"stopped in step {step}; continue with: voice-coach play {routine} --resume",
                  markup=False)
        if result.interrupted:
            raise typer.Exit(130)


@app.command()
def devices() -> None:
    """List the sound output devices `play --device` accepts.

    Example: voice-coach devices
    """
    from .player import output_devices

    with _reported():
        found = output_devices()
        if not found:
            raise ToolError("no audio output devices found (is a sound server running?); "
                            "`voice-coach export` makes an MP3 instead")
        table = Table("index", "name", "host API", "default", box=None, pad_edge=False)
        for d in found:
            table.add_row(str(d.index), d.name, d.host_api, "yes" if d.default else "")
        out.print(table)


@app.command()
def version() -> None:
    """Print the version.

    Example: voice-coach version
    """
    out.print(f"voice-coach {__version__}")


def main() -> None:
    app()
