"""From a routine to everything show/export/play need: voice, clips and timeline.

This is the one place that joins the pure core (timeline) to the speech engine and
its cache.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .audio.bed import BedPlan, check_files, routine_bed_plan
from .audio.clip import Clip
from .paths import cache_dir as default_cache_dir
from .plan import Plan
from .routine.model import Routine, VoiceSettings
from .speech import engine_name, fallback_note, get_engine
from .speech.cache import CacheStats, SpeechCache
from .speech.contract import ResolvedVoice
from .timeline import Pacing, Timeline, build_timeline, spoken_texts

Progress = Callable[[int, int], None]
"""Called with (lines done, distinct lines in all) as each line is read or synthesized."""


@dataclass(frozen=True)
class Prepared:
    """A routine ready to render: its voice, every line's audio and the timeline laid
    out from their measured lengths."""

    routine: Routine
    voice: ResolvedVoice
    """The engine and voice that spoke, with every default filled in."""
    timeline: Timeline
    clips: dict[str, Clip]
    """Every spoken line's audio, by text."""
    sample_rate: int
    """The rate to render at, in Hz: the most common among the clips (the others are
    resampled to it); 22050 when there are none."""
    cache: CacheStats
    """How many lines came from the speech cache and how many were synthesized now."""
    note: str | None = None
    """For the person: the natural voice could not be used, and how to get it."""
    bed: BedPlan | None = None
    """What sounds under the speech, and where; None for nothing."""


OLD_RECORDS = "quickstart"
"""A folder earlier versions kept in the cache (recorded starts of `play`); unused now."""


def speech_cache(settings: VoiceSettings, cache_dir: Path | None = None) -> SpeechCache:
    """The engine `settings` name, its resolved voice, and the cache of its clips."""
    root = cache_dir or default_cache_dir()
    engine = get_engine(engine_name(settings), root)
    shutil.rmtree(root / OLD_RECORDS, ignore_errors=True)
    return SpeechCache(root, engine, engine.resolve(settings))


def prepare(
    routine: Routine,
    voice_override: VoiceSettings = VoiceSettings(),
    cache_dir: Path | None = None,
    pacing: Pacing = Pacing(),
    progress: Progress | None = None,
) -> Prepared:
    """Speak (or find in the cache) every line `routine` may say and lay it out.

    `voice_override` is merged over the routine's own `voice:` (the fields it sets
    win). Clips are kept in `cache_dir` (default: `paths.cache_dir()`) and each
    distinct line is synthesized at most once, side by side when the engine allows;
    `progress` follows that.

    Raises `ValidationError` for a bed file that is missing, cannot be decoded or is
    longer than 3 hours (before any synthesis); `EngineError` for an engine that is
    unknown or not installed, a voice it does not have, or a line it cannot speak;
    `CueTooLongError` (a `TimelineError`) for a cue longer than its hold or beat.
    """
    check_files(routine)  # a missing or broken bed file: said before any synthesis
    settings = routine.voice.merged(voice_override)
    cache = speech_cache(settings, cache_dir)
    voice = cache.voice
    clips = cache.clips(spoken_texts(routine), progress)
    timeline = build_timeline(routine, {t: c.duration_ms for t, c in clips.items()}, pacing)
    # The output runs at the most common clip rate; others are resampled to it.
    rates = [c.sample_rate for c in clips.values()]
    sample_rate = max(set(rates), key=rates.count) if rates else 22050
    bed = routine_bed_plan(routine, [c.start_ms for c in timeline.chapters])
    return Prepared(
        routine, voice, timeline, clips, sample_rate, cache.stats, fallback_note(settings), bed
    )


def settings_comment(prepared: Prepared) -> str:
    """The settings an export was made with, for its tags."""
    v = prepared.voice
    return (
        f"voice_coach; engine {v.engine} {v.engine_version}; voice {v.voice}; "
        f"rate {v.rate_wpm} wpm; volume {v.volume:g}"
    )


def prepare_plan(plan: Plan, progress: Progress | None = None) -> Prepared:
    """`prepare` for a planned routine, with the voice and cache it chose."""
    return prepare(plan.routine, plan.resolved.voice, plan.choices.cache_dir, progress=progress)
