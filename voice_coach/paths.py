"""Where voice_coach keeps things: one function per folder, each overridable by an
environment variable (tests and scripts point them at temporary folders).

| folder | holds | variable |
|---|---|---|
| cache | synthesized cues | `VOICE_COACH_CACHE` |
| config | `profile.yaml` | `VOICE_COACH_CONFIG` |
| data | the practice history | `VOICE_COACH_DATA` |
| state | where each routine was left off | `VOICE_COACH_STATE` |
| routines | your routine scripts (`voice-coach new`), in data | `VOICE_COACH_ROUTINES` |
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "voice-coach"
CACHE_ENV_VAR = "VOICE_COACH_CACHE"
CONFIG_ENV_VAR = "VOICE_COACH_CONFIG"
DATA_ENV_VAR = "VOICE_COACH_DATA"
STATE_ENV_VAR = "VOICE_COACH_STATE"
ROUTINES_ENV_VAR = "VOICE_COACH_ROUTINES"


def project_root() -> Path | None:
    """The checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "scripts").is_dir() else None


def cache_dir() -> Path:
    """$VOICE_COACH_CACHE, else the checkout's audio_cache/, else the user cache dir."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR])
    root = project_root()
    if root is not None:
        return root / "audio_cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP)) / "audio"


PROFILE_NAME = "profile.yaml"
"""The profile's file name in the config directory."""


def config_dir() -> Path:
    """$VOICE_COACH_CONFIG, else the user's config directory (~/.config/voice-coach)."""
    if os.environ.get(CONFIG_ENV_VAR):
        return Path(os.environ[CONFIG_ENV_VAR])
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP))


def data_dir() -> Path:
    """$VOICE_COACH_DATA, else the user's data directory."""
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR])
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP))


def state_dir() -> Path:
    """$VOICE_COACH_STATE, else the user's state directory."""
    if os.environ.get(STATE_ENV_VAR):
        return Path(os.environ[STATE_ENV_VAR])
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP))


def routines_dir() -> Path:
    """$VOICE_COACH_ROUTINES, else `routines` in the data directory (`data_dir`)."""
    if os.environ.get(ROUTINES_ENV_VAR):
        return Path(os.environ[ROUTINES_ENV_VAR])
    return data_dir() / "routines"
