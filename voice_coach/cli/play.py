"""`play` and `devices`: live, hands-free playback."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import note, reported, say, status_width, table, warn
from .options import with_settings

if TYPE_CHECKING:
    from ..live.session import Status
    from ..settings.words import Choices


@app.command()
@with_settings
def play(
    ctx: typer.Context,
    routine: Annotated[
        Optional[str],
        typer.Argument(
            help="A routine file, or the name of a bundled routine (see `voice-coach list`); "
            "none: the one your plan has due now (see `voice-coach today`).",
            show_default=False,
        ),
    ] = None,
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
    listen: Annotated[
        Optional[bool],
        typer.Option(
            "--listen/--no-listen",
            help='Voice commands from the default microphone, offline: "coach" and one word '
            "(pause, go on, next, back, longer, shorter, stop, time). Default: the "
            "profile's `listen:` (else off).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Log to stderr what the voice heard and whether media keys are on."
        ),
    ] = False,
    *,
    choices: Choices,
) -> None:
    """Play a routine live through the speakers, hands-free.

    Keys (no Enter needed): space pause/resume, n or → next step, b or ← back,
    + / - lengthen or shorten the current hold by 5 s, q quit. Ctrl+C also stops;
    `--resume` continues from the step you stopped in. With `--listen`, say
    "coach pause", "coach go on", "coach next", "coach stop" (or "stop, stop")... Media
    keys and headset buttons work through MPRIS on Linux. When the coach asks how your
    pain is (the checkin setting: after the last step by default), answer with a digit
    (1 then 0 for ten; Enter skips) or by voice ("four", "no pain").

    With no routine, plays the one your plan has due now (see `voice-coach plan`).

    Example: voice-coach play sciatica-relief --resume --listen
    """
    # First the sound stream and its start tone, before the rest of the program loads:
    # the person hears at once that the coach has started. On the default device the
    # entry point has started it already (`cli.open_for_play`).
    from ..errors import VoiceCoachError
    from ..live.devices import Speaker, start_tone

    speaker: Speaker | VoiceCoachError | None = ctx.obj
    if speaker is None:
        try:
            speaker = start_tone(device)
        except VoiceCoachError as exc:
            speaker = exc  # reported once the routine is known to be valid

    from ..live.handsfree import hands_free
    from ..live.keys import KEY_HELP
    from ..live.run import play_routine

    if debug:
        import logging

        logging.basicConfig(format="debug: %(message)s")
        logging.getLogger("voice_coach").setLevel(logging.DEBUG)
    live = sys.stderr.isatty()

    def voice_off(line: str) -> None:
        if live:
            sys.stderr.write("\r\x1b[2K")  # over the status line
        warn(line)

    from ..plan import listens

    if routine is None:
        from .plan import due_routine

        with reported():
            routine = due_routine(choices.profile, ask=sys.stdin.isatty())

    hands = hands_free(listens(routine, choices, listen), notify=voice_off)

    def show_status(status: Status) -> None:
        if live:
            sys.stderr.write("\r\x1b[2K" + hands.status_line(status)[: status_width()])
            sys.stderr.flush()

    def ready() -> None:
        if sys.stdin.isatty():
            note(KEY_HELP)

    with reported():
        played = play_routine(
            routine,
            choices,
            speaker,
            resume=resume,
            notify=note,
            on_status=show_status,
            controls=hands.controls,
            on_ready=ready,
            answerable=hands.can_answer,
        )
    if live:
        sys.stderr.write("\r\x1b[2K")
    for warning in played.warnings:
        warn(warning)
    result = played.result
    rated = [
        f"{n} {when}"
        for n, when in ((result.pain_before, "before"), (result.pain_after, "after"))
        if n is not None
    ]
    noted = f" (pain {', '.join(rated)})" if rated else ""
    if result.finished:
        say(f"finished {played.plan.routine.title}{noted}")
        return
    say(
        f"stopped in step {played.stopped_in_step}; continue with: "
        f"voice-coach play {routine} --resume"
    )
    if played.result.interrupted:
        raise typer.Exit(130)


@app.command()
def devices() -> None:
    """List the sound output devices `play --device` accepts.

    Example: voice-coach devices
    """
    from ..errors import ToolError
    from ..live.devices import output_devices

    with reported():
        found = output_devices()
        if not found:
            raise ToolError(
                "no audio output devices found (is a sound server running?); "
                "`voice-coach export` makes an MP3 instead"
            )
        table(
            ("index", "name", "host API", "default"),
            [(str(d.index), d.name, d.host_api, "yes" if d.default else "") for d in found],
        )
