"""One-key commands read from the terminal."""

from __future__ import annotations

from voice_coach.live.keys import parse_keys
from voice_coach.live.session import Command


def test_keys_map_to_commands_including_arrow_sequences() -> None:
    assert parse_keys(b" nb+-=q") == [
        Command.PAUSE,
        Command.NEXT,
        Command.BACK,
        Command.LONGER,
        Command.SHORTER,
        Command.LONGER,
        Command.QUIT,
    ]
    assert parse_keys(b"\x1b[C\x1b[Dx\x1b[A") == [Command.NEXT, Command.BACK]
    assert parse_keys(b"") == []
