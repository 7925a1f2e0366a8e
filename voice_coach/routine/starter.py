"""Routines of your own: a commented starter script, or a copy of a routine to customize,
written into your routines folder (`paths.routines_dir`), where `play NAME` finds it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_atomically
from ..errors import Problem, ValidationError, VoiceCoachError
from ..paths import routines_dir
from .library import SUFFIXES, bundled_routines, find_routine
from .schema import SCHEMA_FILE, with_modeline

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""A routine's name: its file name without `.yaml`, and how it is played."""

STARTER = """\
# {name}: a routine of your own. Change anything: `voice-coach validate {name}` checks
# it, `voice-coach show {name}` lists every cue with its time, `voice-coach play {name}`
# plays it. Every key is described in `voice-coach schema` (and in editors that read the
# line above) and in the README, "Routine scripts".
title: {title}
description: What this routine is for (for the list of routines; not spoken).
intro: Go gently, and stop if anything hurts.  # spoken after the title

defaults:
  hold: 30        # seconds of each hold, unless a step says otherwise
  countdown: 3    # "Three, two, one" before each release

steps:
  # A hold: the set-up lines, then "Hold", then the release exactly when it ends.
  # Write instructions as you would on paper: each sentence is spoken as its own line.
  - name: Figure four stretch
    setup: Lie on your back, knees bent. Cross your {{side}} ankle over your {{other}} knee.
    hold: 45
    sides: [right, left]     # once for each side, "Switch sides." between
    during: [Breathe slowly., Let your knee fall open.]   # spread over the hold
    release: Uncross your legs.

  - rest: 15                 # "Rest for 15 seconds." and a preview of what comes next

  # A flow: lines paced by the breath, each `secs` long, round after round.
  - name: Cat cow
    setup: Come onto your hands and knees.
    flow:
      - {{say: "Breathe in, let your belly sink, lift your chest.", secs: 5}}
      - {{say: "Breathe out, round your back, tuck your chin.", secs: 5}}
    rounds: 4
    countdown: 0             # the breath keeps the time
    release: Come back to a flat, relaxed back.

  # A count: reps counted aloud, "One" to "Eight", one every `tempo` seconds.
  - name: Bridge
    setup: Lie on your back with your knees bent and your feet flat on the floor.
    count: 8
    tempo: 4
    say: Lift.               # spoken before each number, where it fits
    release: Lower your hips and rest.
"""


@dataclass(frozen=True)
class Written:
    """A routine `new` wrote."""

    name: str
    path: Path
    replaces_bundled: bool
    """It has a bundled routine's name: it is played instead of that one."""


def routine_name(text: str) -> str:
    """`text` as a routine name (a `.yaml` ending dropped); a clear error if it is none."""
    name = text
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    if not NAME.fullmatch(name):
        raise ValidationError(
            [
                Problem(
                    "NAME",
                    None,
                    "",
                    f"{text!r} cannot name a routine: use letters, digits, - and _ "
                    "(up to 64, starting with a letter or digit), e.g. my-back-routine",
                )
            ]
        )
    return name


def starter_script(name: str, schema: Path | str = SCHEMA_FILE) -> str:
    """The commented starter routine `new NAME` writes."""
    title = name.replace("-", " ").replace("_", " ").strip().capitalize()
    return with_modeline(STARTER.format(name=name, title=title), schema)


def new_routine(name: str, source: str | None = None, force: bool = False) -> Written:
    """Write routine `name` into the routines folder: the starter script, or a copy of
    `source` (a routine name or file). An existing routine is replaced only with `force`."""
    name = routine_name(name)
    if source is None:
        text = starter_script(name)
    else:
        origin = find_routine(source)
        try:
            text = with_modeline(origin.read_text(encoding="utf-8"), SCHEMA_FILE)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError([Problem(str(origin), None, "", f"cannot read: {exc}")]) from None
    path = routines_dir() / f"{name}.yaml"
    if path.exists() and not force:
        raise ValidationError(
            [Problem(str(path), None, "", "already exists; add --force to replace it")]
        )
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise VoiceCoachError(f"cannot write {path}: {exc.strerror or exc}") from None
    return Written(name, path, name in bundled_routines())
