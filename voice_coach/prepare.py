"""From a routine to everything show/export/play need: voice, clips and timeline.

This is the one place that joins the pure core (timeline) to the speech engine and
its cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .audio import Clip
from .cache import CacheStats, SpeechCache
from .files import default_cache_dir
from .model import Routine, VoiceSettings
from .speech import ResolvedVoice, get_engine
from .timeline import Pacing, Timeline, build_timeline, spoken_texts

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Prepared:
    routine: Routine
    voice: ResolvedVoice
    timeline: Timeline
    clips: dict[str, Clip]
    """Every spoken line's audio, by text."""
    sample_rate: int
    cache: CacheStats


def speech_cache(settings: VoiceSettings, cache_dir: Path | None = None) -> SpeechCache:
    """The engine `settings` name, its resolved voice, and the cache of its clips."""
    engine = get_engine(settings.engine)
    return SpeechCache(cache_dir or default_cache_dir(), engine, engine.resolve(settings))


def prepare(
    routine: Routine,
    voice_override: VoiceSettings = VoiceSettings(),
    cache_dir: Path | None = None,
    pacing: Pacing = Pacing(),
    progress: Progress | None = None,
) -> Prepared:
    cache = speech_cache(routine.voice.merged(voice_override), cache_dir)
    voice = cache.voice
    clips = cache.clips(spoken_texts(routine), progress)
    timeline = build_timeline(routine, {t: c.duration_ms for t, c in clips.items()}, pacing)
    # The output runs at the most common clip rate; others are resampled to it.
    rates = [c.sample_rate for c in clips.values()]
    sample_rate = max(set(rates), key=rates.count) if rates else 22050
    return Prepared(routine, voice, timeline, clips, sample_rate, cache.stats)


def settings_comment(prepared: Prepared) -> str:
    """The settings an export was made with, for its tags."""
    v = prepared.voice
    return (
        f"voice_coach; engine {v.engine} {v.engine_version}; voice {v.voice}; "
        f"rate {v.rate_wpm} wpm; volume {v.volume:g}"
    )
