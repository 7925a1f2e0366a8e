"""Quick start: the first seconds of a routine play before the program has loaded.

A warm `voice-coach play` spends most of its first second loading Python modules
(numpy, pydantic, typer) and validating the routine before its first sample. So each
play leaves a *quick-start record* in the audio cache: the exact audio the first
`HEAD_S` seconds would be next time with the same command line, plus a manifest of
everything that audio depends on:

- the routine file, the profile, the positions file (`--resume`) and the history
  (when a progression counts from it), by content hash; a path that was looked for
  and not found must still not be a file;
- the cached clips it is made of (size and modification time);
- this package's own source files (size and modification time);
- the date from which a week-based progression moves to its next stage.

`begin()`, called by the launcher before anything heavy is imported, finds the record
for the command line, checks the manifest with the standard library only, opens the
sound device and starts playing it. The player then loads as usual, renders the same
frames itself, compares them with what was played and takes the stream over at the
frame reached (`take()`), so the timeline's clock runs on unbroken. A stale or damaged
record is not used: that start simply takes the normal path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .files import CACHE_ENV_VAR, default_cache_dir, write_atomically
from .output import SAMPLE_BYTES, Output

FORMAT = 1
MAGIC = b"voice-coach quick start\n"
HEAD_S = 20.0
"""Audio kept per record: far more than a warm start needs to load (about 1 s; a few
on a busy machine). Should the player still be loading when it runs out, the stream
plays silence until it takes over, and the routine continues from where the head ended
(nothing is skipped)."""
FOLDER = "quickstart"
KEEP = 12
"""Records kept per cache (about 0.9 MB each at 22,050 Hz): one per command line
played lately (a routine, with or without --resume or other options)."""
OFF_ENV_VAR = "VOICE_COACH_QUICK_START"
"""Set to 0 to never play a record (they are still written)."""
KEY_ENV_PREFIXES = ("VOICE_COACH_", "XDG_")
KEY_ENV_NAMES = ("HOME",)
"""Environment variables that can change which files are read (and so the audio)."""


# -- the record --------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What a recorded head depends on; see the module docstring."""

    sample_rate: int
    files: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, sha256 of its content, or None: it must not be a file)."""
    clips: list[tuple[str, int, int]] = field(default_factory=list)
    """(path, size, st_mtime_ns) of each clip file the head is made of."""
    until: str | None = None
    """ISO date (UTC) from which the head is stale (a week-based progression moves on)."""
    code: str = ""
    """`code_stamp()` when the record was made."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "sample_rate": self.sample_rate,
            "files": self.files,
            "clips": self.clips,
            "until": self.until,
            "code": self.code,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest | None:
        try:
            if data["format"] != FORMAT:
                return None
            return cls(
                sample_rate=int(data["sample_rate"]),
                files=[(str(p), None if h is None else str(h)) for p, h in data["files"]],
                clips=[(str(p), int(s), int(m)) for p, s, m in data["clips"]],
                until=None if data["until"] is None else str(data["until"]),
                code=str(data["code"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def is_current(self, today: date | None = None) -> bool:
        """Every input is as it was when the head was recorded."""
        today = today or datetime.now(UTC).date()
        try:
            if self.until is not None and today >= date.fromisoformat(self.until):
                return False
        except ValueError:
            return False  # a damaged record
        if self.code != code_stamp():
            return False
        if any(content_hash(Path(p)) != h for p, h in self.files):
            return False
        return all(file_stamp(Path(p)) == (s, m) for p, s, m in self.clips)


def content_hash(path: Path) -> str | None:
    """sha256 of a file's content; None if it is not a readable file."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except (OSError, ValueError):  # missing, a directory, unreadable
        return None


def file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def code_stamp() -> str:
    """Size and modification time of every source file of this package: a changed
    program may lay out or mix the same routine differently."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = Path(folder, name)
                rel = path.relative_to(package).as_posix()
                stamp = file_stamp(path)  # None: removed meanwhile (an upgrade running)
                digest.update(f"{rel}\0{stamp}\n".encode())
    return digest.hexdigest()


def record_key(args: Sequence[str], cwd: str, env: Mapping[str, str]) -> str:
    """The record's name: the `play` arguments, where they are run, and the
    environment variables that say where files are."""
    keep = {k: v for k, v in env.items() if k.startswith(KEY_ENV_PREFIXES) or k in KEY_ENV_NAMES}
    text = json.dumps({"format": FORMAT, "args": list(args), "cwd": cwd, "env": keep})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_root(args: Sequence[str], env: Mapping[str, str]) -> Path:
    """The audio cache `play` with these arguments uses (as its --cache-dir option)."""
    for i, arg in enumerate(args):
        if arg == "--cache-dir" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--cache-dir="):
            return Path(arg.split("=", 1)[1])
    if env.get(CACHE_ENV_VAR):
        return Path(env[CACHE_ENV_VAR])
    return default_cache_dir()


def record_path(
    args: Sequence[str], cwd: str | None = None, env: Mapping[str, str] | None = None
) -> Path:
    cwd = cwd if cwd is not None else os.getcwd()
    env = env if env is not None else os.environ
    return cache_root(args, env) / FOLDER / f"{record_key(args, cwd, env)}.head"


def save(path: Path, manifest: Manifest, pcm: bytes) -> None:
    """Write a record atomically (a reader sees the old one or the whole new one), and
    keep only the `KEEP` most recently written in its folder."""
    header = json.dumps(manifest.to_json(), separators=(",", ":")).encode()
    write_atomically(path, MAGIC + header + b"\n" + pcm)
    records = []
    for other in path.parent.glob("*.head"):
        with contextlib.suppress(OSError):  # removed meanwhile
            records.append((other.stat().st_mtime_ns, other))
    for _, old in sorted(records, reverse=True)[KEEP:]:
        old.unlink(missing_ok=True)


def load(path: Path) -> tuple[Manifest, bytes] | None:
    """A record, or None if there is none or it is damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        return None
    try:
        manifest = Manifest.from_json(json.loads(data[len(MAGIC) : end]))
    except ValueError:
        return None
    pcm = data[end + 1 :]
    if manifest is None or len(pcm) % SAMPLE_BYTES:
        return None
    return manifest, pcm


# -- playing a record ------------------------------------------------------------------


class Head:
    """A `Source` that plays a recorded head, then silence until the player takes over."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.total_frames = len(pcm) // SAMPLE_BYTES
        self.position = 0
        """Frames handed out, the silence after the head included."""
        self.debt = 0
        """Frames lost to underruns while the head played; the player makes them up."""

    def read(self, frames: int) -> bytes:
        start = self.position * SAMPLE_BYTES
        chunk = self.pcm[start : start + frames * SAMPLE_BYTES]
        self.position += frames
        return chunk + bytes(frames * SAMPLE_BYTES - len(chunk))

    def catch_up(self, frames: int) -> None:
        self.debt += frames

    @property
    def finished(self) -> bool:
        return False


@dataclass
class Started:
    output: Output
    head: Head


invocation: list[str] | None = None
"""The arguments after `play` when run as the `voice-coach` command (set by `begin`);
only then does `play` leave a record, since the next start is looked up by them."""
_started: Started | None = None


def begin(args: Sequence[str]) -> bool:
    """Start playing the record for `voice-coach play ARGS` if there is a current one."""
    global invocation, _started
    invocation = list(args)
    if os.environ.get(OFF_ENV_VAR) == "0":
        return False
    if any(a == "--device" or a.startswith("--device=") for a in args):
        return False  # records are for the default device only
    found = load(record_path(args))
    if found is None or not found[0].is_current():
        return False
    manifest, pcm = found
    try:
        import sounddevice as sd
    except (ImportError, OSError):
        return False  # the player reports this, with advice
    head = Head(pcm)
    try:
        output = Output(sd, manifest.sample_rate, None, head)
    except (sd.PortAudioError, ValueError):
        return False  # no device: the player says so
    _started = Started(output, head)
    return True


def take(sample_rate: int, device: int | None) -> Started | None:
    """The stream `begin` started, for the player to take over; None if there is none
    or it does not fit (then it is closed)."""
    global _started
    started, _started = _started, None
    if started is None:
        return None
    if started.output.sample_rate != sample_rate or device is not None:
        started.output.close()
        return None
    return started


def discard() -> None:
    """Close a stream nobody took over (the command failed or was interrupted)."""
    global _started
    started, _started = _started, None
    if started is not None:
        started.output.close()
