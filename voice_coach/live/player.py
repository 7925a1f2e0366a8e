"""Live playback: a session on a running output stream, fed by background synthesis.

The stream's callback asks the `LiveSession` for exactly the frames the device needs,
so the count of frames played is the clock: no `time.sleep` between cues and no
reliance on PortAudio's stream time. Lines synthesize in a background thread in
timeline order; the keyboard is read in another, one key per command.

The start tone plays on a stream of its own while the program loads; once it has
played out, the player opens the routine's stream, so the first cue is at the front
of the device buffer. The routine's clock starts there.

Every block handed to the device goes through an `Airtime`, which mixes in short
answers (the voice commands' acknowledgement) and remembers what sounded when, so
that voice control does not obey the coach's own words.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..audio.clip import Clip
from ..phrases import Phrases
from ..routine.model import Routine
from ..speech.cache import SpeechCache
from ..timefmt import clock
from ..timeline import Pacing, routine_phrases, spoken_texts
from .checkin import CheckIn, CheckIns, ask, checkin_texts
from .remote import Airtime, Controls, Remote, no_controls
from .session import Command, LiveSession, Status
from .stream import LATENCY_S, SAMPLE_RATE, Output, Source

WAIT_WORTH_SAYING_MS = 100
"""Less waiting for speech than this goes unremarked."""
FIRST_FILL_WAIT_S = 0.5
"""Longest wait for a new stream's first callback before loading the other lines."""
TONE_WAIT_S = 2.0
"""Longest wait for the start tone's stream to play out (it takes about 0.5 s)."""
END_WAIT_S = 5.0
"""Longest wait for the stream to play out after the routine and its check-in."""


def status_line(st: Status) -> str:
    if st.note:
        return st.note
    state = "paused" if st.paused else ("waiting for speech" if st.waiting else "playing")
    step = f"step {st.step}/{st.steps} {st.step_name}" if st.step else st.step_name
    parts = [state, step]
    if st.side:
        parts.append(f"{st.side} side")
    if st.rep and st.reps and st.reps > 1:
        parts.append(f"rep {st.rep}/{st.reps}")
    if st.hold_left_ms is not None:
        parts.append(f"{st.hold_kind} {clock(st.hold_left_ms)} left")
    total = clock(st.total_ms) if st.total_ms else "…"
    parts.append(f"{clock(st.position_ms)} / {total}")
    return " · ".join(parts)


@dataclass(frozen=True)
class PlayResult:
    finished: bool
    """Played to the end (not quit or interrupted)."""
    interrupted: bool
    """Stopped by Ctrl+C."""
    step: int
    """The step playing when it stopped (0: the introduction)."""
    underruns: int
    """Times the device ran dry."""
    waited_ms: int
    """Silence played while waiting for synthesis."""
    lost_ms: int = 0
    """Silence the listener heard in underruns."""
    caught_up_ms: int = 0
    """How much of it was made up by shortening pauses."""
    pain_before: int | None = None
    pain_after: int | None = None
    """The pain ratings (0-10) the coach was given, if it asked and had an answer."""

    def underrun_note(self) -> str | None:
        """A one-line account of underruns for the listener, if there were any."""
        if not self.underruns:
            return None
        made_up = (
            f"; {self.lost_ms} ms of silence, {self.caught_up_ms} ms of it made up "
            "in the pauses after"
            if self.lost_ms
            else ""
        )
        return f"the sound device ran short of audio {self.underruns} time(s){made_up}"

    def waiting_note(self) -> str | None:
        """A one-line account of time the routine stood still waiting for speech."""
        if self.waited_ms < WAIT_WORTH_SAYING_MS:
            return None
        return (
            f"the routine waited {self.waited_ms / 1000:.1f} s in all for its lines to be "
            "synthesized (they are cached now: the next play will not)"
        )


class _Synthesizer(threading.Thread):
    """Synthesizes the remaining lines in timeline order, feeding the session."""

    def __init__(self, cache: SpeechCache, texts: list[str], session: LiveSession) -> None:
        super().__init__(name="voice-coach-synth", daemon=True)
        self.cache, self.texts, self.session = cache, texts, session
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # What is cached already goes over in one batch (each hand-over lays the
            # routine out again); then the rest, as it is spoken.
            cached: dict[str, Clip] = {}
            for text in self.texts:
                clip = self.cache.cached(text)
                if clip is None:
                    break
                cached[text] = clip
            if cached:
                self.session.add_clips(cached)
            batch: dict[str, Clip] = {}
            last = time.monotonic()
            for text in self.texts[len(cached) :]:
                if self.stop.is_set():
                    return
                batch[text] = self.cache.clip(text)
                # Hand over often at first (playback may be waiting), then in batches.
                if time.monotonic() - last > 0.05 or len(batch) >= 16:
                    self.session.add_clips(batch)
                    batch, last = {}, time.monotonic()
            if batch:
                self.session.add_clips(batch)
        except BaseException as exc:  # reported by the player's loop
            self.error = exc


class _SessionSource:
    """The session as the output stream's `Source`."""

    def __init__(self, session: LiveSession, airtime: Airtime, hold_at_end: bool = False) -> None:
        self.session = session
        self.airtime = airtime
        self.hold_at_end = hold_at_end
        """Go on (in silence) after the routine's end: the coach is to ask something."""

    def read(self, frames: int) -> bytes:
        from_ms = self.session.position_ms
        block = self.session.read(frames)
        return self.airtime.mix(block, from_ms, self.session.position_ms).tobytes()

    def catch_up(self, frames: int) -> None:
        self.session.catch_up(frames)

    @property
    def finished(self) -> bool:
        return self.session.finished and not self.hold_at_end


def new_session(
    routine: Routine,
    cache: SpeechCache,
    sample_rate: int,
    start_step: int = 1,
    pacing: Pacing = Pacing(),
) -> tuple[LiveSession, list[str]]:
    """A session for `routine` holding its first line, and every line in timeline order."""
    texts = spoken_texts(routine)
    session = LiveSession(
        routine,
        sample_rate,
        speak=cache.clip,
        pacing=pacing,
        start_step=start_step,
        # The lead-in silence is for exports; live, the start tone came before.
        start_ms=pacing.lead_in_ms if start_step <= 1 else 0,
    )
    session.add_clips({texts[0]: cache.clip(texts[0])})
    return session, texts


def play(
    routine: Routine,
    cache: SpeechCache,
    open_stream: Callable[[Source], Output],
    start_step: int = 1,
    pacing: Pacing = Pacing(),
    on_status: Callable[[Status], None] | None = None,
    controls: Controls = no_controls,
    tone: Output | None = None,
    checkins: CheckIns = CheckIns(),
) -> PlayResult:
    """Play `routine` until it ends, is quit, or Ctrl+C, on a stream `open_stream` opens
    (at SAMPLE_RATE) once the first line is ready and `tone`, the start tone's stream,
    has played out. Every stream is closed on return. The coach asks for a pain rating
    where `checkins` says, if a control can answer (keys on a terminal, the voice):
    before, the routine waits for it; after, the stream goes on until it is answered."""
    phrases = routine_phrases(routine)[0]
    try:
        session, texts = new_session(routine, cache, SAMPLE_RATE, start_step, pacing)
        if checkins.before:
            session.handle(Command.PAUSE)  # held at its start until the answer
        if tone is not None and tone.started.wait(TONE_WAIT_S):
            tone.done.wait(max(0.0, min(TONE_WAIT_S, tone.heard_by() - time.monotonic())))
    finally:
        if tone is not None:
            tone.close()
    # Before: the check-in's lines first (the routine waits for the answer anyway).
    # After: made during the last step (`_warm`), not while the routine's lines load.
    asked = checkin_texts(phrases) if checkins.before else []
    synth = _Synthesizer(cache, [*asked, *texts[1:]], session)
    warmed: threading.Thread | None = None
    airtime = Airtime(SAMPLE_RATE, LATENCY_S)
    interrupted = False
    output: Output | None = None
    pain: dict[str, int | None] = {}
    try:
        source = _SessionSource(session, airtime, hold_at_end=checkins.after)
        output = open_stream(source)
        # The rest loads once the device holds the first cue, so as not to delay it.
        output.started.wait(FIRST_FILL_WAIT_S)
        synth.start()
        remote = Remote(session, airtime, cache.clip, cache.root)
        with controls(remote):
            answerable = bool(remote.desk.ways)
            source.hold_at_end = checkins.after and answerable
            if checkins.before:
                if answerable:
                    pain["before"] = _ask(remote, phrases, on_status)
                if not session.quit_requested:
                    session.handle(Command.PAUSE)  # on with the routine
            while not output.done.wait(0.2):
                if synth.error is not None:
                    raise synth.error
                if on_status is not None:
                    on_status(session.status())
                if source.hold_at_end and session.finished:
                    break
                if source.hold_at_end and warmed is None and _in_last_step(session):
                    warmed = _warm(cache, checkin_texts(phrases))
            if source.hold_at_end and not session.quit_requested:
                pain["after"] = _ask(remote, phrases, on_status)
            source.hold_at_end = False
            output.done.wait(END_WAIT_S)  # what the coach said back plays out
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if output is not None:
            output.close()
        synth.stop.set()
        if synth.is_alive():
            synth.join(timeout=5)
    if synth.error is not None:
        raise synth.error
    assert output is not None
    if output.error is not None:
        raise output.error
    rate = session.sample_rate
    return PlayResult(
        finished=session.finished and not session.quit_requested and not interrupted,
        interrupted=interrupted,
        step=session.current_step(),
        underruns=output.underruns,
        lost_ms=output.lost.reported * 1000 // rate,
        caught_up_ms=session.caught_up_frames * 1000 // rate,
        waited_ms=session.waited_frames * 1000 // rate,
        pain_before=pain.get("before"),
        pain_after=pain.get("after"),
    )


def _in_last_step(session: LiveSession) -> bool:
    return session.current_step() >= len(session.routine.steps)


def _warm(cache: SpeechCache, texts: list[str]) -> threading.Thread:
    """Synthesize `texts` into the cache in the background (a failure shows when said)."""

    def run() -> None:
        for text in texts:
            try:
                cache.clip(text)
            except Exception:  # said (and reported) when it is needed
                return

    thread = threading.Thread(target=run, name="voice-coach-checkin", daemon=True)
    thread.start()
    return thread


def _ask(
    remote: Remote, phrases: Phrases, on_status: Callable[[Status], None] | None
) -> int | None:
    """Ask for a pain rating over the live stream and wait for the answer (or for
    nothing, `ANSWER_WAIT_S`); "stop" then quits the routine."""

    def show(note: str) -> None:
        if on_status is not None:
            on_status(dataclasses.replace(remote.status(), note=note))

    asked = ask(CheckIn(phrases), remote.desk, remote.say, lambda: not remote.airtime.busy(), show)
    if asked.stop and not remote.session.finished:
        remote.handle(Command.QUIT)
    return asked.rating
