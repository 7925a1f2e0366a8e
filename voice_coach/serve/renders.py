"""Renders the page asks for, made one at a time on this computer.

A render is named by its `export_key`, the hash of everything its file depends on, so
identical requests are one render, and a file the export folder's index already has
for that key (made by an earlier render or by `export-all`) is not made again. Few
renders wait: past `max_waiting` a new one is refused (`Busy`), as the computer
would otherwise be busy for as long as anyone keeps asking.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import VoiceCoachError
from ..export.batch import Index
from ..export.encode import FORMATS
from ..export.key import plan_key
from ..export.routine import default_target, write_export
from ..plan import Plan
from ..prepare import prepare_plan
from ..speech.contract import ResolvedVoice

State = Literal["queued", "running", "done", "failed"]
MAX_WAITING = 3
"""Renders waiting behind the one being made; more are refused."""
KEPT = 256
"""Finished renders remembered for status requests (older ones are found by the index)."""
MAX_NAME_BYTES = 200
"""A longer file name (many settings) is replaced by the routine's name and the key."""
SPEECH_SHARE = 0.2
"""The part of the progress bar that making the speech takes; encoding takes the rest."""


class Busy(Exception):
    """Too many renders are waiting; try again later."""


@dataclass
class Render:
    """One render and how far it has got."""

    id: str
    """Its `export_key`."""
    routine: str
    """The routine's name."""
    target: Path
    fmt: str
    bitrate_kbps: int | None
    plan: Plan | None = field(default=None, repr=False)
    """What to render; None once done (or found done)."""
    state: State = "queued"
    stage: str = "queued"
    """What it is doing: queued, speech, encoding, done, failed (a queued one is
    "waiting" to the API only while another render is ahead of it: `RenderQueue.ahead`)."""
    progress: float = 0.0
    """0 to 1."""
    error: str | None = None


class RenderQueue:
    """Renders into `root`, one at a time, on a thread of its own."""

    def __init__(
        self,
        root: Path,
        speech_lock: threading.Lock,
        max_waiting: int = MAX_WAITING,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.speech_lock = speech_lock
        self.max_waiting = max_waiting
        self.log = log
        self._renders: OrderedDict[str, Render] = OrderedDict()
        self._waiting: list[Render] = []
        self._running: Render | None = None
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="voice-coach-render", daemon=True)
        self._thread.start()

    def target(self, plan: Plan, fmt: str, key: str) -> Path:
        """Where the render goes: the name `export` would give it, in the folder."""
        target = default_target(plan, fmt, False, self.root)
        if len(target.name.encode()) > MAX_NAME_BYTES:
            target = self.root / f"{plan.routine.slug}-{key[:16]}.{fmt}"
        if target.parent.resolve() != self.root:  # names come from slugs and labels
            raise VoiceCoachError(f"refused to write outside {self.root}: {target}")
        return target

    def submit(
        self, name: str, plan: Plan, voice: ResolvedVoice, fmt: str, bitrate_kbps: int | None
    ) -> Render:
        """The render of `plan`: the one already made, being made or waiting, else a
        new one at the end of the queue. `Busy` when too many wait."""
        kbps = FORMATS[fmt].kbps(bitrate_kbps)
        key = plan_key(plan, voice, fmt, kbps, False)
        with self._wake:
            known = self._renders.get(key)
            if known is not None and known.state in ("queued", "running"):
                return known
            target = self.target(plan, fmt, key)
            if Index.load(self.root).hashes.get(target.name) == key and target.is_file():
                done = Render(
                    key, name, target, fmt, kbps, state="done", stage="done", progress=1.0
                )
                return self._remember(done)
            if len(self._waiting) >= self.max_waiting:
                raise Busy
            render = self._remember(Render(key, name, target, fmt, kbps, plan))
            self._waiting.append(render)
            self._wake.notify()
            return render

    def get(self, key: str) -> Render | None:
        """A render by id: one this server knows, or a file the index has for it."""
        with self._wake:
            known = self._renders.get(key)
            if known is not None:
                return known
            index = Index.load(self.root)
        for name, digest in index.hashes.items():
            if digest == key and (self.root / name).is_file():
                return Render(
                    key,
                    routine=Path(name).stem,
                    target=self.root / name,
                    fmt=Path(name).suffix.lstrip("."),
                    bitrate_kbps=None,
                    state="done",
                    stage="done",
                    progress=1.0,
                )
        return None

    def ahead(self, render: Render) -> int:
        """How many renders are made before `render`: the one being made and those
        waiting in front of it (0 when it is not waiting)."""
        with self._wake:
            place = next((i for i, r in enumerate(self._waiting) if r is render), None)
            return 0 if place is None else place + (self._running is not None)

    def busy(self) -> bool:
        """Whether a render is being made or waits."""
        with self._wake:
            return self._running is not None or bool(self._waiting)

    def close(self) -> None:
        """Stop after the render being made, if any; waiting ones are dropped."""
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _remember(self, render: Render) -> Render:
        self._renders[render.id] = render
        self._renders.move_to_end(render.id)
        finished = [k for k, r in self._renders.items() if r.state in ("done", "failed")]
        for old in finished[: max(0, len(self._renders) - KEPT)]:
            del self._renders[old]
        return render

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                render = self._waiting.pop(0)
                render.state, render.stage = "running", "speech"
                self._running = render
            try:
                self._make(render)
            finally:
                with self._wake:
                    self._running = None

    def _make(self, render: Render) -> None:
        plan = render.plan
        assert plan is not None

        def speech(done: int, total: int) -> None:
            render.progress = SPEECH_SHARE * done / max(1, total)

        def encoding(done: int, total: int) -> None:
            render.stage = "encoding"
            render.progress = SPEECH_SHARE + (1 - SPEECH_SHARE) * min(1.0, done / max(1, total))

        try:
            with self.speech_lock:
                ready = prepare_plan(plan, speech)
            write_export(
                plan, ready, render.target, render.fmt, render.bitrate_kbps, False, encoding
            )
            with self._wake:
                index = Index.load(self.root)
                index.hashes[render.target.name] = render.id
                index.save()
        except Exception as exc:  # the worker outlives any one render
            render.state, render.stage, render.error = "failed", "failed", _reason(exc)
            if self.log:
                self.log(f"render of {render.routine} failed: {render.error}")
        else:
            render.state, render.stage, render.progress = "done", "done", 1.0
            if self.log:
                self.log(f"rendered {render.target.name}")
        finally:
            render.plan = None


def _reason(exc: Exception) -> str:
    if not isinstance(exc, VoiceCoachError | OSError):
        return f"internal error ({type(exc).__name__}: {exc})"
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
