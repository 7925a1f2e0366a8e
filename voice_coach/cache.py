"""A directory of synthesized cues: one WAV per distinct way of saying a line.

The key covers everything that changes the sound (engine, its version, voice, rate,
volume, text, and how clips are post-processed), so a stale entry is never reused.
Entries are written atomically; a truncated or corrupt one is detected on read and
synthesized again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

from .audio import Clip, clip_from_wav_bytes, trim_silence
from .speech import Engine, ResolvedVoice

CACHE_FORMAT = 1
"""Bump when what is stored for the same inputs changes (e.g. silence trimming)."""
ENV_VAR = "VOICE_COACH_CACHE"

Progress = Callable[[int, int], None]


def project_root() -> Path | None:
    """The checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "scripts").is_dir() else None


def default_cache_dir() -> Path:
    """$VOICE_COACH_CACHE, else the checkout's audio_cache/, else the user cache dir."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    root = project_root()
    if root is not None:
        return root / "audio_cache"
    return Path(user_cache_dir("voice-coach")) / "audio"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_temp_beside(path: Path, suffix: str = ".partial") -> Path:
    """An empty temporary file in `path`'s folder (same file system, so renames are
    atomic), with the permissions a normally created file would get."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(tmp)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    tmp = new_temp_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class CacheStats:
    hits: int = 0
    synthesized: int = 0
    repaired: int = 0
    """Entries found broken and synthesized again."""


@dataclass
class SpeechCache:
    root: Path
    engine: Engine
    voice: ResolvedVoice
    stats: CacheStats = field(default_factory=CacheStats)
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Engines such as pyttsx3 are not thread-safe: one synthesis at a time."""

    def key(self, text: str) -> str:
        fields = {**dataclasses.asdict(self.voice), "text": text, "format": CACHE_FORMAT}
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def path(self, text: str) -> Path:
        key = self.key(text)
        return self.root / self.voice.engine / key[:2] / f"{key}.wav"

    def clip(self, text: str) -> Clip:
        path = self.path(text)
        if path.exists():
            try:
                clip = clip_from_wav_bytes(path.read_bytes())
                if clip.frames > 0:
                    self.stats.hits += 1
                    return clip
            except (wave.Error, EOFError, OSError, ValueError):
                pass
            self.stats.repaired += 1
        with self._engine_lock:
            clip = trim_silence(self.engine.synthesize(text, self.voice))
        write_atomically(path, clip.to_wav_bytes())
        self.stats.synthesized += 1
        return clip

    def clips(self, texts: Iterable[str], progress: Progress | None = None) -> dict[str, Clip]:
        """Every text's clip, each distinct text synthesized at most once."""
        unique = list(dict.fromkeys(texts))
        out: dict[str, Clip] = {}
        for i, text in enumerate(unique, start=1):
            out[text] = self.clip(text)
            if progress:
                progress(i, len(unique))
        return out
