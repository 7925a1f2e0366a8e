"""`play` as an MPRIS media player on the session D-Bus, so that keyboard media keys,
Bluetooth headset buttons, desktop widgets and `playerctl` steer it.

play/pause -> pause or resume; next -> the next step; previous -> this step's start
(or, near it, the previous step); stop and quit -> stop, as `q` does. The metadata
is the routine (album), the current step (title) and the routine's cover, drawn
like an export's and kept as a PNG in the cache folder (a `file://` URL).

The bus runs in a thread of its own (dbus-fast on an asyncio loop); every POLL_S it
compares the session's status with what it last published and sends
PropertiesChanged when the step, the state or the length changed. With no session
bus (a console, a container), play goes on without it; why is only logged (debug).

No `from __future__ import annotations` here: dbus-fast reads the D-Bus signatures
from the annotations, and a postponed `-> None` would read as a signature.
"""

import asyncio
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from dbus_fast import BusType, NameFlag, PropertyAccess, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusDict,
    DBusDouble,
    DBusInt64,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from .remote import Remote
from .session import Command, Status

log = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.voice_coach"
"""Another player already holding it: `BUS_NAME.instance<pid>`, as the spec allows."""
OBJECT_PATH = "/org/mpris/MediaPlayer2"
IDENTITY = "voice_coach"
POLL_S = 0.25
CONNECT_WAIT_S = 2.0
"""How long `media_keys` waits for the bus before playback goes on without it."""

DBusStrings = Annotated[list[str], DBusSignature("as")]


def playback_status(status: Status) -> str:
    if status.finished:
        return "Stopped"
    return "Paused" if status.paused else "Playing"


def track_id(status: Status) -> str:
    return f"/org/voice_coach/step/{status.step or 0}"


def step_title(status: Status) -> str:
    """ "Step 3/8 · Figure four" (the introduction has no number)."""
    if status.step is None:
        return status.step_name
    return f"Step {status.step}/{status.steps} · {status.step_name}"


def metadata(status: Status, routine_title: str, art_url: str | None) -> dict[str, Variant]:
    """MPRIS metadata for where playback is: the routine is the album, the step the
    track; the length is the routine's once known."""
    data = {
        "mpris:trackid": Variant("o", track_id(status)),
        "xesam:title": Variant("s", step_title(status)),
        "xesam:album": Variant("s", routine_title),
        "xesam:artist": Variant("as", [IDENTITY]),
    }
    if status.total_ms is not None:
        data["mpris:length"] = Variant("x", status.total_ms * 1000)
    if art_url is not None:
        data["mpris:artUrl"] = Variant("s", art_url)
    return data


def cover_file(remote: Remote) -> Path | None:
    """The routine's cover as a PNG in the cache folder (written once per title)."""
    title = remote.routine.title
    path = remote.cache_dir / "covers" / f"{zlib.crc32(title.encode()):08x}.png"
    if not path.exists():
        from ..atomic import write_atomically
        from ..export.cover import CoverText, cover_png  # Pillow: only now

        try:
            write_atomically(path, cover_png(CoverText(title=title)))
        except OSError as exc:
            log.debug("mpris: no cover (%s)", exc)
            return None
    return path


class _Root(ServiceInterface):
    """org.mpris.MediaPlayer2: who the player is."""

    def __init__(self, remote: Remote) -> None:
        super().__init__("org.mpris.MediaPlayer2")
        self._remote = remote

    @dbus_method()
    def Raise(self) -> None:
        """Nothing to raise: play has no window."""

    @dbus_method()
    def Quit(self) -> None:
        self._remote.handle(Command.QUIT)

    @dbus_property(access=PropertyAccess.READ)
    def CanQuit(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanRaise(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def HasTrackList(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Identity(self) -> DBusStr:
        return IDENTITY

    @dbus_property(access=PropertyAccess.READ)
    def SupportedUriSchemes(self) -> DBusStrings:
        return []

    @dbus_property(access=PropertyAccess.READ)
    def SupportedMimeTypes(self) -> DBusStrings:
        return []


class _Player(ServiceInterface):
    """org.mpris.MediaPlayer2.Player: the controls and what is playing."""

    def __init__(self, remote: Remote, art_url: str | None) -> None:
        super().__init__("org.mpris.MediaPlayer2.Player")
        self._remote = remote
        self._art_url = art_url
        self._published: dict[str, Any] = {}

    def _status(self) -> Status:
        return self._remote.status()

    def refresh(self) -> None:
        """Publish what changed since the last call."""
        status = self._status()
        now = {
            "PlaybackStatus": playback_status(status),
            "Metadata": metadata(status, self._remote.routine.title, self._art_url),
        }
        changed = {k: v for k, v in now.items() if self._published.get(k) != v}
        if changed:
            self._published.update(changed)
            self.emit_properties_changed(changed)

    # -- methods ------------------------------------------------------------------

    @dbus_method()
    def Next(self) -> None:
        self._remote.handle(Command.NEXT)

    @dbus_method()
    def Previous(self) -> None:
        self._remote.handle(Command.BACK)

    @dbus_method()
    def Pause(self) -> None:
        if not self._status().paused:
            self._remote.handle(Command.PAUSE)

    @dbus_method()
    def Play(self) -> None:
        if self._status().paused:
            self._remote.handle(Command.PAUSE)

    @dbus_method()
    def PlayPause(self) -> None:
        self._remote.handle(Command.PAUSE)

    @dbus_method()
    def Stop(self) -> None:
        self._remote.handle(Command.QUIT)

    @dbus_method()
    def Seek(self, offset_us: DBusInt64) -> None:
        """Not supported (CanSeek is false): the routine moves by steps."""

    @dbus_method()
    def SetPosition(self, track: DBusObjectPath, position_us: DBusInt64) -> None:
        """Not supported (CanSeek is false)."""

    @dbus_method()
    def OpenUri(self, uri: DBusStr) -> None:
        """Not supported: play plays the routine it was started with."""

    @dbus_signal()
    def Seeked(self) -> DBusInt64:
        return self._status().position_ms * 1000

    # -- properties ---------------------------------------------------------------

    @dbus_property(access=PropertyAccess.READ)
    def PlaybackStatus(self) -> DBusStr:
        return playback_status(self._status())

    @dbus_property(access=PropertyAccess.READ)
    def Metadata(self) -> DBusDict:
        return metadata(self._status(), self._remote.routine.title, self._art_url)

    @dbus_property(access=PropertyAccess.READ)
    def Position(self) -> DBusInt64:
        return self._status().position_ms * 1000

    @dbus_property()
    def Rate(self) -> DBusDouble:
        return 1.0

    @Rate.setter  # type: ignore[no-redef]
    def Rate(self, value: DBusDouble) -> None:
        """The routine plays at its own pace."""

    @dbus_property()
    def Volume(self) -> DBusDouble:
        return 1.0

    @Volume.setter  # type: ignore[no-redef]
    def Volume(self, value: DBusDouble) -> None:
        """The system's volume control is the one to use."""

    @dbus_property(access=PropertyAccess.READ)
    def MinimumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def MaximumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def CanGoNext(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanGoPrevious(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanPlay(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanPause(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanSeek(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def CanControl(self) -> DBusBool:
        return True


class _Service:
    """The bus connection and its loop, in a thread of its own."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.connected = threading.Event()
        self.failed: str | None = None
        self.name: str | None = None
        """The bus name held, once connected."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voice-coach-mpris", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # no bus, refused, went away: play goes on
            self.failed = f"{type(exc).__name__}: {exc}"
            log.debug("mpris: off (%s)", self.failed)
        finally:
            self.connected.set()

    async def _serve(self) -> None:
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        try:
            cover = cover_file(self.remote)
            player = _Player(self.remote, cover.as_uri() if cover else None)
            bus.export(OBJECT_PATH, _Root(self.remote))
            bus.export(OBJECT_PATH, player)
            name = BUS_NAME
            reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
            if reply is not RequestNameReply.PRIMARY_OWNER:
                name = f"{BUS_NAME}.instance{os.getpid()}"
                await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
            self.name = name
            log.debug("mpris: on the session bus as %s", name)
            self.connected.set()
            while not self._stopping.is_set():
                player.refresh()
                await asyncio.sleep(POLL_S)
        finally:
            bus.disconnect()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)


@contextmanager
def media_keys(remote: Remote) -> Iterator[bool]:
    """MPRIS on the session bus for the duration of the block (a `Controls`); yields
    whether it is on."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not _default_bus().exists():
        log.debug("mpris: off (no session bus: DBUS_SESSION_BUS_ADDRESS is not set)")
        yield False
        return
    service = _Service(remote)
    service.start()
    try:
        service.connected.wait(CONNECT_WAIT_S)
        yield service.name is not None
    finally:
        service.stop()


def _default_bus() -> Path:
    """Where systemd puts the session bus when the variable is not set."""
    return Path(os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")) / "bus"
