"""The routines the page offers and what it shows of each: the listing (title,
description, length), and one routine as a person's settings make it (its steps with
their holds, every setting and where it came from, its timeline and picture).

Routines are found through the library only (`routine_paths`), and a routine is
always named, never given as a path: a request cannot make the server read a file
of its choosing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, RoutineNotFoundError, ValidationError, VoiceCoachError
from ..paths import cache_dir
from ..plan import Plan, make_plan
from ..prepare import Prepared, prepare_plan
from ..routine.library import all_routines
from ..routine.model import Exercise, Flow, Rest, Routine, VoiceSettings
from ..settings.layers import TURN_ON_HINT, merged_overrides
from ..settings.words import Choices
from ..speech import engine_name, get_engine
from ..speech.cache import SpeechCache
from ..speech.contract import Engine, ResolvedVoice
from ..timeline import build_timeline, spoken_texts

MAX_VOICES_KEPT = 64
"""Voices remembered (requests choose rates and volumes: the memory must not grow
with them)."""
QUIET_S = 3.0
"""Measuring in the background waits until the page has not asked for speech for this
long."""
MEASURE_PAUSE_S = 0.02
"""Measuring in the background pauses this long before each line it speaks."""
PICTURE_SIZE_PX = (1000, 400)
"""The timeline picture on the page: as tall as `show --plot`'s (the same type size),
narrower, for a phone."""


def routine_paths() -> dict[str, tuple[Path, str]]:
    """Every routine the page offers, as the library lists them (yours and the bundled
    ones): name -> (its script, "yours" or "bundled")."""
    return {found.name: (found.path, found.origin) for found in all_routines()}


@dataclass(frozen=True)
class Checked:
    """A routine as a person's settings make it, with the voice that will speak it."""

    plan: Plan
    voice: ResolvedVoice


class Catalog:
    """The routines, looked up by name. Speech for the page's requests is made one
    request at a time (`speech_lock`, shared with the renders): engines are not all
    thread-safe, and two requests for the same lines should not both synthesize them."""

    def __init__(
        self, speech_lock: threading.Lock, busy: Callable[[], bool] = lambda: False
    ) -> None:
        self.speech_lock = speech_lock
        self._busy = busy
        """Whether a render is being made or waits: measuring waits for it to end."""
        self._used_at = -QUIET_S
        """When (time.monotonic) the page last asked for a routine's speech."""
        self._lengths: dict[tuple[Routine, ResolvedVoice], int | None] = {}
        """Lengths already measured (from the speech cache, or by making the speech in
        the background); None: it cannot be (its speech fails)."""
        self._measuring: threading.Thread | None = None
        self._closed = threading.Event()
        self._voices: dict[tuple[VoiceSettings, str], tuple[Engine, ResolvedVoice]] = {}
        """Voices already looked up, by settings and the engine they name then (the
        default changes when a voice is installed while the server runs): starting an
        engine and finding its voices can take a tenth of a second (piper reads every
        installed package's metadata)."""

    def path(self, name: str) -> Path:
        routines = routine_paths()
        if name not in routines:
            raise RoutineNotFoundError(
                f"no routine named {name!r}; routines: {', '.join(routines) or 'none'}"
            )
        return routines[name][0]

    def checked(self, name: str, choices: Choices) -> Checked:
        """The plan for `name` with `choices`, and its voice; an unknown engine or
        voice is a `ValidationError` naming `--engine` or `--voice`."""
        plan = make_plan(str(self.path(name)), choices)
        _, voice = self._voice(plan.routine.voice.merged(plan.resolved.voice))
        return Checked(plan, voice)

    def _voice(self, settings: VoiceSettings) -> tuple[Engine, ResolvedVoice]:
        name = engine_name(settings)
        found = self._voices.get((settings, name))
        if found is not None:
            return found
        if settings.voice and ("/" in settings.voice or settings.voice.endswith(".onnx")):
            raise ValidationError(
                [Problem("--voice", None, "", "a voice from the list; model files are not taken")]
            )
        try:
            engine = get_engine(name)
        except VoiceCoachError as exc:
            raise ValidationError([Problem("--engine", None, "", str(exc))]) from None
        try:
            voice = engine.resolve(settings)
        except VoiceCoachError as exc:
            raise ValidationError([Problem("--voice", None, "", str(exc))]) from None
        if len(self._voices) >= MAX_VOICES_KEPT:
            self._voices.clear()
        self._voices[settings, name] = engine, voice
        return engine, voice

    def prepared(self, name: str, choices: Choices) -> tuple[Plan, Prepared]:
        """The routine ready to lay out or render: its speech synthesized (or read
        from the cache)."""
        plan = self.checked(name, choices).plan
        self._used_at = time.monotonic()
        try:
            with self.speech_lock:
                return plan, prepare_plan(plan)
        finally:
            self._used_at = time.monotonic()

    def close(self) -> None:
        """Stop measuring after the routine being measured."""
        self._closed.set()

    def listing(self) -> list[dict[str, Any]]:
        """Every routine: name, title, description, steps, source, and its length
        with the person's profile. A length whose speech is not all in the cache is
        None and `measuring` is true: it is measured in the background (its speech
        made, one routine at a time), so asking again soon gives it."""
        out = self._listing()
        missing = [entry["name"] for entry in out if entry.get("measuring")]
        if missing and (self._measuring is None or not self._measuring.is_alive()):
            self._measuring = threading.Thread(
                target=self._measure, args=(missing,), name="voice-coach-measure", daemon=True
            )
            self._measuring.start()
        return out

    def _measure(self, names: list[str]) -> None:
        """Make the speech of `names` that is not in the cache, a line at a time: the
        page's own requests wait for one line at most, not for a whole routine."""
        for name in names:
            try:
                checked = self.checked(name, Choices())
            except VoiceCoachError:
                continue  # the listing says what is wrong with it
            key = (checked.plan.routine, checked.voice)
            if key in self._lengths:
                continue
            try:
                cache = self._cache(checked)
                for text in spoken_texts(checked.plan.routine):
                    # The page first: measuring waits while a render is made and
                    # until the page has not asked for speech for a while (someone
                    # tuning a routine), and pauses before each line, so a request
                    # waiting for the lock gets it (a lock is not fair: released and
                    # taken again at once, it may starve the page's requests).
                    while not self._closed.is_set() and (
                        self._busy() or time.monotonic() - self._used_at < QUIET_S
                    ):
                        self._closed.wait(MEASURE_PAUSE_S * 10)
                    if self._closed.wait(MEASURE_PAUSE_S):
                        return
                    with self.speech_lock:
                        cache.clip(text)
            except Exception:  # a length we cannot know is no reason to stop the rest
                self._lengths[key] = None
                continue
            if self._cached_length(checked) is None:
                self._lengths[key] = None  # its timeline cannot be laid out

    def _cache(self, checked: Checked) -> SpeechCache:
        engine, voice = self._voice(checked.plan.routine.voice.merged(checked.plan.resolved.voice))
        return SpeechCache(checked.plan.choices.cache_dir or cache_dir(), engine, voice)

    def _listing(self) -> list[dict[str, Any]]:
        out = []
        for name, (_, origin) in routine_paths().items():
            entry: dict[str, Any] = {"name": name, "source": origin}
            try:
                checked = self.checked(name, Choices())
            except VoiceCoachError as exc:
                out.append({**entry, "title": name, "total_ms": None, "error": str(exc)})
                continue
            routine = checked.plan.routine
            total_ms = self._cached_length(checked)
            measured = (routine, checked.voice) in self._lengths
            out.append(
                {
                    **entry,
                    "title": routine.title,
                    "description": routine.description,
                    "steps": len(routine.steps),
                    "exercises": len(routine.exercises),
                    "total_ms": total_ms,
                    "measuring": total_ms is None and not measured,
                }
            )
        return out

    def _cached_length(self, checked: Checked) -> int | None:
        """The routine's length if every line of it is in the speech cache (or it was
        measured), else None: measuring it means making its speech (`_measure`)."""
        routine = checked.plan.routine
        key = (routine, checked.voice)
        if key not in self._lengths:
            cache = self._cache(checked)
            durations = {}
            for text in spoken_texts(routine):
                clip = cache.cached(text)
                if clip is None:
                    return None
                durations[text] = clip.duration_ms
            try:
                self._lengths[key] = build_timeline(routine, durations).total_ms
            except VoiceCoachError:
                return None
        return self._lengths[key]

    def detail(self, name: str, choices: Choices) -> dict[str, Any]:
        """One routine with `choices`: what the page shows and tunes."""
        plan, ready = self.prepared(name, choices)
        timeline = ready.timeline
        sources = {s.name: s.source for s in plan.resolved.settings}
        scale = _scale(plan)
        v = ready.voice
        return {
            "name": name,
            "title": plan.routine.title,
            "description": plan.routine.description,
            "source": routine_paths()[name][1],
            "total_ms": timeline.total_ms,
            "chapters": timeline.to_json()["chapters"],
            "warnings": [_unplaced(w, plan.routine.source) for w in timeline.warnings],
            "summary": plan.resolved.summary,
            "progression": progression_for_page(plan),
            "scale": scale,
            "steps": [
                _step_json(n, step, scale, sources)
                for n, step in enumerate(plan.routine.steps, start=1)
            ],
            "cues": _cues_json(plan.routine),
            "voice": {
                "engine": v.engine,
                "voice": v.voice,
                "rate": v.rate_wpm,
                "volume": v.volume,
                "note": ready.note,
            },
            "settings": [
                {"name": s.name, "value": s.value, "from": s.source}
                for s in plan.resolved.listing()
            ],
        }

    def picture(self, name: str, choices: Choices) -> bytes:
        """The timeline picture (PNG): chapters, waveform and cue marks."""
        from ..export.plot import timeline_png  # Pillow and the renderer: only here

        _, ready = self.prepared(name, choices)
        return timeline_png(ready.timeline, ready.clips, ready.sample_rate, PICTURE_SIZE_PX)


def progression_for_page(plan: Plan) -> str:
    """Where the progression stands, as the page shows it: without the command line's
    "turn it on with --build-up", as the page's switch turns it on."""
    return plan.resolved.progression_note.removesuffix(TURN_ON_HINT)


def _unplaced(warning: str, source: str) -> str:
    """A warning without the script's path and line ("FILE:LINE: "): the page names
    the step, and a path of this computer means nothing on a phone."""
    return re.sub(rf"^{re.escape(source)}(?::\d+)?: ", "", warning)


def _scale(plan: Plan) -> float:
    """The scale in effect (1 when none): the highest layer's, as `resolve` takes it."""
    scale = merged_overrides(plan.layers).get("scale")
    return 1.0 if scale is None else float(scale)


def _step_json(
    n: int, step: Exercise | Rest, scale: float, sources: dict[str, str]
) -> dict[str, Any]:
    if isinstance(step, Rest):
        return {
            "number": n,
            "kind": "rest",
            "rest_s": step.rest_s,
            "base_rest_s": round(step.rest_s / scale, 1),
            "from": {"rest": sources.get(f"step {n} rest", "")},
        }
    return {
        "number": n,
        "kind": "exercise",
        "name": step.name,
        # A flow or a count times itself: no hold to set (a scale still changes it).
        "paced": None if step.pace is None else "flow" if isinstance(step.pace, Flow) else "count",
        "hold_s": step.hold_s,
        "base_hold_s": round(step.hold_s / scale, 1),
        "reps": step.reps,
        "sides": list(step.sides),
        "settle_s": step.settle_s,
        "recover_s": step.recover_s,
        "from": {
            key: sources.get(f"step {n} {key}", "") for key in ("hold", "reps", "settle", "recover")
        },
    }


def _cues_json(routine: Routine) -> dict[str, Any]:
    """The cue options as the page shows them (they may differ per step in a script;
    the page sets them for the whole routine)."""
    exercises = routine.exercises
    return {
        "countdown": max((e.cues.countdown for e in exercises), default=0),
        "chimes": any(e.cues.chimes for e in exercises),
        "during": any(e.cues.during for e in exercises),
        "sided": any(e.sides for e in exercises),
    }
