"""The JSON API over HTTP on 127.0.0.1: every endpoint, every error, the timeline
against `show --json`, renders (shared, reused, bounded) and the key.

The fake engine is the default voice here, so routines lay out and render at once.
"""

from __future__ import annotations

import http.client
import json
import os
import stat
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from conftest import ROUTINES, FakeEngine, ctrl_c_back, require_program
from integration.waiting import wait_until
from typer.testing import CliRunner

from voice_coach import speech
from voice_coach.cli.commands import app
from voice_coach.routine.library import bundled_routines
from voice_coach.serve import renders
from voice_coach.serve.http import ExportServer
from voice_coach.serve.keys import COOKIE, KEY_FILE, load_key
from voice_coach.speech import DefaultEngine

KEY = "k" * 32
ROUTINE = "sciatica-relief"
RUNNING = ("queued", "running")


@dataclass
class Client:
    root: Path
    port: int
    server: ExportServer

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request; the reply's JSON (or bytes when it is not JSON)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = raw if raw is not None else None if body is None else json.dumps(body).encode()
            sent = dict(headers if headers is not None else {"Authorization": f"Bearer {KEY}"})
            if data is not None:
                sent.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            payload = response.read()
            reply_headers = dict(response.getheaders())
            if payload and reply_headers.get("Content-Type", "").startswith("application/json"):
                return response.status, reply_headers, json.loads(payload)
            return response.status, reply_headers, payload
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, Any]:
        status, _, data = self.call("GET", path, headers={})
        return status, data

    def make(self, settings: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """POST a render and wait for it to end; its last status."""
        status, _, render = self.call(
            "POST", "/api/exports", {"routine": ROUTINE, "settings": settings or {}, **extra}
        )
        assert status == 202, render
        return self.wait(render)

    def wait(self, render: dict[str, Any]) -> dict[str, Any]:
        """`render` once it has ended (done or failed)."""
        if render["state"] not in RUNNING:
            return render

        def ended() -> dict[str, Any] | None:
            status, latest = self.get(f"/api/exports/{render['id']}")
            assert status == 200, latest
            return None if latest["state"] in RUNNING else latest

        return wait_until(ended, f"render {render['id']} to end", 60)


@pytest.fixture(autouse=True)
def own_routines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A routines folder of the user's own, empty to start with."""
    folder = tmp_path / "routines"
    monkeypatch.setenv("VOICE_COACH_ROUTINES", str(folder))
    return folder


@pytest.fixture
def fake_default(fake_engine: type[FakeEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake engine speaks wherever no engine is chosen."""
    monkeypatch.setattr(
        speech, "default_engine", lambda language=None: DefaultEngine("fake", "test")
    )


def start(root: Path, **options: Any) -> tuple[ExportServer, threading.Thread]:
    server = ExportServer(root, ("127.0.0.1", 0), key=KEY, **options)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def client(tmp_path: Path, fake_default: None, cache_dir: Path) -> Iterator[Client]:
    root = tmp_path / "exports"
    root.mkdir()
    server, thread = start(root)
    try:
        yield Client(root, server.port, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def cli_json(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- reading ----------------------------------------------------------------------------


def test_routines_lists_every_routine(client: Client, own_routines: Path) -> None:
    own_routines.mkdir()
    (own_routines / "mine.yaml").write_text((ROUTINES / "minimal.yaml").read_text())
    (own_routines / "broken.yaml").write_text("title: [\n")
    status, data = client.get("/api/routines")
    assert status == 200
    listed = {r["name"]: r for r in data["routines"]}
    assert set(listed) == {*bundled_routines(), "mine", "broken"}
    assert (listed["mine"]["title"], listed["mine"]["source"]) == ("Minimal", "yours")
    assert "not valid YAML" in listed["broken"]["error"]
    assert client.get("/api/routines/mine/timeline")[0] == 200
    sciatica = listed[ROUTINE]
    assert sciatica["title"] == "Sciatica relief routine" and sciatica["source"] == "bundled"
    assert sciatica["description"].startswith("Main routine")
    # Its length is known once its lines have been spoken: it is being measured.
    assert sciatica["total_ms"] is None and sciatica["measuring"] is True
    assert str(own_routines) not in listed["broken"]["error"]  # no path of this computer
    _, detail = client.get(f"/api/routines/{ROUTINE}")
    _, data = client.get("/api/routines")
    listed = {r["name"]: r for r in data["routines"]}
    assert listed[ROUTINE]["total_ms"] == detail["total_ms"]


def test_every_length_is_measured_in_the_background(client: Client) -> None:
    """Lengths not in the speech cache are measured without opening the routines: asked
    again, the listing has every one, the same as opening each gives."""
    _, data = client.get("/api/routines")
    assert any(r["measuring"] for r in data["routines"])

    def measured() -> list[dict[str, Any]] | None:
        _, data = client.get("/api/routines")
        routines: list[dict[str, Any]] = data["routines"]
        return None if any(r["total_ms"] is None for r in routines) else routines

    routines = wait_until(measured, "every length to be measured", 60, 0.05)
    assert not any(r["measuring"] for r in routines)
    for entry in routines:
        _, detail = client.get(f"/api/routines/{entry['name']}")
        assert entry["total_ms"] == detail["total_ms"]


def test_a_bad_value_names_its_step_and_no_path(client: Client) -> None:
    query = urlencode([("hold", "Knee hug=-5"), ("reps", "2"), ("scale", "x")])
    status, error = client.get(f"/api/routines/{ROUTINE}?{query}")
    assert status == 400 and error["field"] == "hold"
    assert error["problems"] == [
        {
            "field": "hold",
            "step": "Knee hug",
            "message": "must be from 1 to 10800 seconds (3 hours), got -5",
        },
        {"field": "scale", "step": None, "message": "must be a number, got 'x'"},
    ]
    # A hold too short for its lines: the warnings name the step, not the script's path.
    _, detail = client.get(f"/api/routines/{ROUTINE}?hold=Knee%20hug%3D1")
    assert detail["warnings"] and all(w.startswith("step 7 (Knee hug)") for w in detail["warnings"])
    assert not any("/" in w for w in detail["warnings"])


def test_routine_detail_has_steps_holds_and_sources(client: Client) -> None:
    status, detail = client.get(f"/api/routines/{ROUTINE}")
    assert status == 200
    steps = detail["steps"]
    assert [s["kind"] for s in steps][:2] == ["exercise", "rest"]
    assert steps[0]["name"] == "Lying crossed-leg piriformis stretch"
    assert (steps[0]["hold_s"], steps[0]["sides"], steps[1]["rest_s"]) == (
        60,
        ["right", "left"],
        20,
    )
    assert steps[0]["from"]["hold"] == "routine script"
    assert detail["voice"]["engine"] == "fake" and detail["cues"]["countdown"] == 3

    query = urlencode([("hold", "1=45"), ("scale", "2")])
    _, tuned = client.get(f"/api/routines/{ROUTINE}?{query}")
    first = tuned["steps"][0]
    assert (first["hold_s"], first["base_hold_s"], first["from"]["hold"]) == (
        90,
        45,
        "command line, x2 (command line)",
    )
    assert tuned["total_ms"] > detail["total_ms"] and tuned["scale"] == 2
    assert "step 1 hold 45 s" in tuned["summary"]


@pytest.mark.parametrize(
    "options",
    [
        [],
        [("hold", "1=45")],
        [("hold", "Knee hug=60"), ("hold", "20"), ("reps", "2"), ("scale", "1.2")],
        [("rest", "10"), ("countdown", "5"), ("no-chimes", "true"), ("sides", "left")],
        [("settle", "5"), ("recover", "Knee hug=1"), ("no_during", ""), ("rate", "200")],
    ],
)
def test_timeline_is_show_json(client: Client, options: list[tuple[str, str]]) -> None:
    status, timeline = client.get(f"/api/routines/{ROUTINE}/timeline?{urlencode(options)}")
    assert status == 200
    flags = []
    for name, value in options:
        flag = "--" + name.replace("_", "-")
        flags += [flag] if name.startswith("no") else [flag, value]
    assert timeline == cli_json("show", ROUTINE, "--json", *flags)


def test_timeline_picture_and_voices(client: Client) -> None:
    status, headers, png = client.call(
        "GET", f"/api/routines/{ROUTINE}/timeline.png?hold=1%3D45", headers={}
    )
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert png.startswith(b"\x89PNG")
    status, voices = client.get("/api/voices")
    assert status == 200 and voices["default"] == "fake"
    fake = next(e for e in voices["engines"] if e["name"] == "fake")
    assert fake["available"] and fake["voices"][0]["id"] == "tone"


def test_the_voices_are_listed_again_after_an_install(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running server sees a voice installed after it started."""
    listed = client.get("/api/voices")[1]
    assert client.get("/api/voices")[1] == listed
    monkeypatch.setattr(
        FakeEngine, "voices", lambda self: [speech.VoiceInfo("new", "New", ("en",))]
    )
    assert client.get("/api/voices")[1] == listed  # nothing installed: the list is kept
    stamp = speech.installed_stamp()
    monkeypatch.setattr(speech, "installed_stamp", lambda: (*stamp, ("/new/site", 1)))
    fake = next(e for e in client.get("/api/voices")[1]["engines"] if e["name"] == "fake")
    assert [v["id"] for v in fake["voices"]] == ["new"]


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("hold=abc", "hold"),
        ("hold=0", "hold"),
        ("hold=Nope%3D30", "hold"),
        ("hold=99%3D30", "hold"),
        ("hold=5000&scale=5", "hold"),
        ("scale=0", "scale"),
        ("scale=nan", "scale"),
        ("scale=1&scale=2", "scale"),
        ("reps=0", "reps"),
        ("settle=301", "settle"),
        ("recover=-1", "recover"),
        ("rest=0", "rest"),
        ("countdown=11", "countdown"),
        ("countdown=2.5", "countdown"),
        ("sides=up", "sides"),
        ("no-chimes=maybe", "no-chimes"),
        ("rate=20", "rate"),
        ("volume=2", "volume"),
        ("week=0", "week"),
        ("engine=nonesuch", "engine"),
        ("voice=/etc/passwd", "voice"),
        ("voice=x.onnx", "voice"),
        ("profile=/etc/passwd", "profile"),
        ("cache-dir=/tmp", "cache-dir"),
        ("colour=blue", "colour"),
        ("bed=pace:250", "bed"),
        ("bed=pace%20fast", "bed"),
        ("bed=%2Fetc%2Fpasswd", "bed"),
        ("bed=calm.mp3", "bed"),
        ("bed=http%3A%2F%2Fexample.com%2Fx.mp3", "bed"),
        ("bed=rain&bed=drone", "bed"),
        ("bed=rain&no-bed=1", "no-bed"),
        ("no-bed=maybe", "no-bed"),
        ("bed-level=5", "bed-level"),
        ("bed-level=loud", "bed-level"),
        ("bed-duck=-1", "bed-duck"),
    ],
)
def test_bad_settings_are_refused_with_the_field(client: Client, query: str, field: str) -> None:
    for path in (f"/api/routines/{ROUTINE}", f"/api/routines/{ROUTINE}/timeline"):
        status, error = client.get(f"{path}?{query}")
        assert status == 400, error
        assert error["field"] == field and error["error"]


def test_beds_are_taken_in_the_command_lines_words_but_never_a_file(client: Client) -> None:
    query = urlencode([("bed", "pace:110"), ("bed-level", "-18"), ("bed_duck", "6")])
    status, detail = client.get(f"/api/routines/{ROUTINE}?{query}")
    assert status == 200, detail
    assert "bed pace 110, bed level -18 LU, bed duck 6 dB" in detail["summary"]
    rows = {s["name"]: (s["value"], s["from"]) for s in detail["settings"]}
    assert rows["bed"] == ("pace 110", "command line")
    status, detail = client.get(f"/api/routines/{ROUTINE}?no-bed=true")
    assert status == 200 and "no bed" in detail["summary"]
    status, error = client.get(f"/api/routines/{ROUTINE}?bed=music/calm.mp3")
    assert status == 400 and error["field"] == "bed"
    assert "not taken over the network" in error["error"]


def test_unknown_step_lists_the_steps(client: Client) -> None:
    _, error = client.get(f"/api/routines/{ROUTINE}?hold=Nope%3D30")
    assert "Nope" in error["error"] and "Knee hug" in error["error"]


@pytest.mark.parametrize(
    "name",
    [
        "nonesuch",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "..",
        "%2Fetc%2Fpasswd",
        "scripts%2Fsciatica-relief.yaml",
        "sciatica-relief.yaml",
        "%ff",
    ],
)
def test_unknown_and_traversing_routine_names_are_404(client: Client, name: str) -> None:
    for suffix in ("", "/timeline", "/timeline.png"):
        status, error = client.get(f"/api/routines/{name}{suffix}")
        assert status == 404 and error["field"] == "routine", (name, suffix)
    status, _, error = client.call("PUT", f"/api/profile/routines/{name}", {"hold": ["45"]})
    assert status == 404 and error["field"] == "routine"


def test_routines_are_named_never_paths(client: Client, tmp_path: Path) -> None:
    script = bundled_routines()[ROUTINE]
    for routine in (str(script), "../scripts/sciatica-relief.yaml", "/etc/passwd"):
        status, _, error = client.call("POST", "/api/exports", {"routine": routine})
        assert (status, error["field"]) == (404, "routine")
        status, _, error = client.call("POST", "/api/history", {"routine": routine, "minutes": 5})
        assert (status, error["field"]) == (404, "routine")
    assert list(client.root.iterdir()) == []


def test_unknown_endpoints_and_methods(client: Client) -> None:
    assert client.get("/api/nothing")[0] == 404
    assert client.get("/api/routines/x/y/z")[0] == 404
    status, headers, error = client.call("DELETE", "/api/routines")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST" and error["field"] is None
    status, headers, _ = client.call("GET", "/api/exports")
    assert status == 405 and headers["Allow"] == "POST"
    status, headers, _ = client.call("OPTIONS", "/api/exports", headers={"Origin": "http://evil"})
    assert status == 405 and "Access-Control-Allow-Origin" not in headers
    status, error = client.get("/api/exports/" + "0" * 64)
    assert status == 404 and error["field"] == "id"
    status, headers, body = client.call("HEAD", "/api/routines", headers={})
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "routine"),
        ({"routine": 7}, 400, "routine"),
        ({"routine": ROUTINE, "settings": ["45"]}, 400, "settings"),
        ({"routine": ROUTINE, "settings": {"hold": "abc"}}, 400, "hold"),
        ({"routine": ROUTINE, "settings": {"hold": [True]}}, 400, "hold"),
        ({"routine": ROUTINE, "settings": {"scale": [1, 2]}}, 400, "scale"),
        ({"routine": ROUTINE, "settings": {"rate": "fast"}}, 400, "rate"),
        ({"routine": ROUTINE, "settings": {"no-chimes": "x"}}, 400, "no-chimes"),
        ({"routine": ROUTINE, "settings": {"cache_dir": "/tmp"}}, 400, "cache-dir"),
        ({"routine": ROUTINE, "format": "wav"}, 400, "format"),
        ({"routine": ROUTINE, "format": "mp3", "bitrate": 65}, 400, "bitrate"),
        ({"routine": ROUTINE, "bitrate": "64"}, 400, "bitrate"),
        ({"routine": ROUTINE, "output": "/tmp/x.mp3"}, 400, "output"),
        ({"routine": "nonesuch"}, 404, "routine"),
    ],
)
def test_bad_render_requests(client: Client, body: Any, status: int, field: str) -> None:
    got, _, error = client.call("POST", "/api/exports", body)
    assert (got, error["field"]) == (status, field), error
    assert list(client.root.iterdir()) == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{", "body"),
        (b"[]", "body"),
        (b'"x"', "body"),
        (b'{"routine": NaN}', "body"),
        (b"\xff", "body"),
    ],
)
def test_bodies_that_are_not_json_objects(client: Client, raw: bytes, field: str) -> None:
    status, _, error = client.call(
        "POST",
        "/api/exports",
        raw=raw,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert (status, error["field"]) == (400, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"routine": ROUTINE, "minutes": 0}, "minutes"),
        ({"routine": ROUTINE, "minutes": "ten"}, "minutes"),
        ({"routine": ROUTINE, "minutes": True}, "minutes"),
        ({"routine": ROUTINE, "minutes": 100000}, "minutes"),
        ({"routine": ROUTINE, "minutes": 5, "date": "yesterday"}, "date"),
        ({"routine": ROUTINE, "minutes": 5, "date": 20260101}, "date"),
        ({"routine": ROUTINE, "minutes": 5, "settings": {"hold": ["0"]}}, "hold"),
        ({"minutes": 5}, "routine"),
        ({"routine": ROUTINE, "steps": 3}, "steps"),
    ],
)
def test_bad_history_requests(client: Client, body: Any, field: str) -> None:
    status, _, error = client.call("POST", "/api/history", body)
    assert (status, error["field"]) == (400, field), error
    assert client.get("/api/history")[1]["sessions"] == []


# -- making -----------------------------------------------------------------------------


def test_make_renders_plays_and_joins_the_feed(client: Client) -> None:
    require_program("ffmpeg")
    render = client.make({"hold": ["1=45"]})
    assert render["state"] == "done" and render["progress"] == 1, render
    assert render["file"] == "sciatica-relief-hold1x45.mp3"
    assert render["url"] == f"{client.origin}/sciatica-relief-hold1x45.mp3"
    assert render["cover"] == f"{client.origin}/cover/sciatica-relief-hold1x45.mp3.png"
    _, timeline = client.get(f"/api/routines/{ROUTINE}/timeline?hold=1%3D45")
    assert render["chapters"] == timeline["chapters"]
    assert abs(render["duration_ms"] - timeline["total_ms"]) < 100
    status, _, audio = client.call("GET", "/sciatica-relief-hold1x45.mp3", headers={})
    assert status == 200 and audio == (client.root / render["file"]).read_bytes()
    _, _, feed = client.call("GET", "/feed.xml", headers={})
    urls = [e.get("url") for e in ET.fromstring(feed).iter("enclosure")]
    assert urls == [render["url"]]
    _, _, page = client.call("GET", "/", headers={})
    assert b"sciatica-relief-hold1x45.mp3" in page
    # Its title names what differs from the script, the step by its name: on the page,
    # in the feed, on the lock screen (the file's own title tag).
    title = "Sciatica relief routine (Lying crossed-leg piriformis stretch hold 45 s)"
    assert render["title"] == title
    assert [e.text for e in ET.fromstring(feed).iter("title")][-1] == title


def test_finished_files_are_reused_by_content(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    first = client.make({"hold": ["Lying crossed-leg piriformis stretch=45"]})
    made = client.root / first["file"]
    stamp = made.stat().st_mtime_ns
    calls = count_renders(monkeypatch)
    # The same routine as played, however the request says it: one file.
    status, _, again = client.call(
        "POST", "/api/exports", {"routine": ROUTINE, "settings": {"hold": ["1=45"]}}
    )
    assert status == 202 and again["state"] == "done" and again["id"] == first["id"]
    # A server started later knows it from the export folder's index.
    server, thread = start(client.root)
    try:
        later = Client(client.root, server.port, server)
        assert (
            later.get(f"/api/exports/{first['id']}")[1]["url"] == f"{later.origin}/{first['file']}"
        )
        status, _, render = later.call(
            "POST", "/api/exports", {"routine": ROUTINE, "settings": {"hold": ["1=45"]}}
        )
        assert (status, render["state"]) == (202, "done")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert calls == [] and made.stat().st_mtime_ns == stamp
    # A changed hold is another file.
    other = client.make({"hold": ["1=46"]})
    assert other["id"] != first["id"] and len(calls) == 1


def count_renders(
    monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None
) -> list[str]:
    """Record each file the render queue writes; with `gate`, each waits for it first."""
    calls: list[str] = []
    real: Callable[..., Any] = renders.write_export

    def counted(plan: Any, ready: Any, target: Path, *args: Any) -> Any:
        calls.append(target.name)
        if gate is not None:
            assert gate.wait(30)
        return real(plan, ready, target, *args)

    monkeypatch.setattr(renders, "write_export", counted)
    return calls


def test_identical_concurrent_requests_make_one_file(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    gate = threading.Event()
    calls = count_renders(monkeypatch, gate)
    replies: list[tuple[int, dict[str, Any]]] = []

    def ask() -> None:
        status, _, render = client.call(
            "POST",
            "/api/exports",
            {"routine": ROUTINE, "settings": {"hold": ["1=45"], "reps": ["2"]}},
        )
        replies.append((status, render))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    gate.set()
    assert [status for status, _ in replies] == [202] * 8
    assert len({render["id"] for _, render in replies}) == 1
    done = client.wait(replies[0][1])
    assert done["state"] == "done"
    assert calls == [done["file"]]
    assert sorted(p.name for p in client.root.iterdir()) == sorted(
        [done["file"], ".voice-coach-index.json"]
    )


def test_a_flood_of_renders_gets_429(
    tmp_path: Path, fake_default: None, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    root = tmp_path / "exports"
    root.mkdir()
    gate = threading.Event()
    calls = count_renders(monkeypatch, gate)
    server, thread = start(root, max_waiting=2)
    client = Client(root, server.port, server)
    try:
        statuses, replies = [], []
        for hold in range(30, 40):
            status, headers, reply = client.call(
                "POST", "/api/exports", {"routine": ROUTINE, "settings": {"hold": [str(hold)]}}
            )
            statuses.append(status)
            replies.append(reply)
            if status == 429:
                assert headers["Retry-After"] == "30" and "try again" in reply["error"]
            wait_until(lambda: calls, "the first render to be running", 10, 0.01)
        # One running, two waiting; the rest refused.
        assert statuses == [202, 202, 202] + [429] * 7
        # "Waiting" only behind another render, saying how many are ahead.
        assert replies[0]["stage"] != "waiting"
        assert [(r["stage"], r["ahead"]) for r in replies[1:3]] == [("waiting", 1), ("waiting", 2)]
        # A request that is already queued is still answered, not refused.
        status, _, _ = client.call(
            "POST", "/api/exports", {"routine": ROUTINE, "settings": {"hold": ["31"]}}
        )
        assert status == 202
        gate.set()
        status, _, last = client.call("GET", f"/api/exports/{reply_id(client, '32')}", headers={})
        assert client.wait(last)["state"] == "done" and len(calls) == 3
    finally:
        gate.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def reply_id(client: Client, hold: str) -> str:
    """The id of the render of every hold at `hold` s (asked again: it is known)."""
    status, _, render = client.call(
        "POST", "/api/exports", {"routine": ROUTINE, "settings": {"hold": [hold]}}
    )
    assert status == 202
    return str(render["id"])


def test_a_failed_render_says_why(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice_coach.errors import ToolError

    def broken(*_: Any) -> None:
        raise ToolError("ffmpeg failed: no space left")

    monkeypatch.setattr(renders, "write_export", broken)
    render = client.make()
    assert render["state"] == "failed" and "no space left" in render["error"]
    assert render["url"] is None


# -- logging and saving -----------------------------------------------------------------


def test_log_records_a_session_like_the_cli(client: Client) -> None:
    status, _, done = client.call(
        "POST", "/api/history", {"routine": ROUTINE, "minutes": 8.5, "settings": {"hold": ["1=45"]}}
    )
    assert status == 201
    session = done["session"]
    assert (session["routine"], session["source"], session["finished"]) == (ROUTINE, "log", True)
    assert session["duration_s"] == 510 and session["settings"]["holds_s"]["1"] == 45
    assert done["history"]["streak_days"] == 1
    assert done["history"]["minutes_per_week"][-1]["minutes"] == 8.5
    # Without minutes: the routine's length, as `log` takes it.
    status, _, done = client.call(
        "POST", "/api/history", {"routine": ROUTINE, "date": "2026-01-05"}
    )
    _, timeline = client.get(f"/api/routines/{ROUTINE}/timeline")
    assert status == 201 and done["session"]["duration_s"] == timeline["total_ms"] / 1000
    assert done["session"]["ended_at"].startswith("2026-01-05")
    status, history = client.get("/api/history")
    assert status == 200 and history == cli_json("history", "--json")


def test_save_writes_the_profile_section_settings_then_shows(
    client: Client, private_user_dirs: Path
) -> None:
    profile = private_user_dirs / "config" / "profile.yaml"
    profile.parent.mkdir(parents=True)
    profile.write_text("# mine\nvoice: {rate: 150}  # slow\n")
    status, _, saved = client.call(
        "PUT",
        f"/api/profile/routines/{ROUTINE}",
        {"settings": {"hold": ["Knee hug=60"], "scale": 1.2, "no-chimes": True}},
    )
    assert status == 200, saved
    assert saved["section"] == {"hold": {"Knee hug": 60}, "scale": 1.2, "chimes": False}
    text = profile.read_text()
    assert text.startswith("# mine\nvoice: {rate: 150}  # slow\nroutines:\n  sciatica-relief:\n")
    result = CliRunner().invoke(app, ["settings", ROUTINE])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("step 7 hold"))
    assert "72 s (Knee hug)" in line and f"profile routines.{ROUTINE}" in line
    # The page's next view of the routine starts from the saved values.
    _, detail = client.get(f"/api/routines/{ROUTINE}")
    assert detail["steps"][6]["hold_s"] == 72 and detail["scale"] == 1.2
    # Bad values write nothing.
    status, _, error = client.call("PUT", f"/api/profile/routines/{ROUTINE}", {"hold": ["Nope=3"]})
    assert (status, error["field"]) == (400, "hold") and profile.read_text() == text
    status, _, error = client.call("PUT", f"/api/profile/routines/{ROUTINE}", {"week": 2})
    assert (status, error["field"]) == (400, "week") and profile.read_text() == text


def test_save_takes_a_bed_but_not_a_file(client: Client, private_user_dirs: Path) -> None:
    profile = private_user_dirs / "config" / "profile.yaml"
    path = f"/api/profile/routines/{ROUTINE}"
    status, _, error = client.call("PUT", path, {"settings": {"bed": "/home/me/calm.mp3"}})
    assert (status, error["field"]) == (400, "bed") and not profile.exists()
    status, _, saved = client.call(
        "PUT", path, {"settings": {"bed": "pace 100", "bed-level": -22, "no-bed": False}}
    )
    assert status == 200, saved
    assert saved["section"] == {"bed": {"pace": 100}, "bed_level": -22}


# -- the key ----------------------------------------------------------------------------

WRITES = [
    ("POST", "/api/exports", {"routine": ROUTINE}),
    ("POST", "/api/history", {"routine": ROUTINE, "minutes": 5}),
    ("PUT", f"/api/profile/routines/{ROUTINE}", {"hold": ["45"]}),
    ("POST", "/api/routines?file=mine.yaml", {"title": "Mine", "steps": [{"rest": 5}]}),
]


def cookie(key: str = KEY) -> str:
    return f"{COOKIE}={key}"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 403),
        ({"Authorization": f"Basic {KEY}"}, 403),
        ({"Authorization": "Bearer"}, 403),
        ({"Cookie": cookie("wrong"), "Origin": "ORIGIN"}, 403),
        ({"Cookie": cookie()}, 403),  # no Origin: not known to come from our page
        ({"Cookie": cookie(), "Origin": "http://evil.example"}, 403),
        ({"Cookie": cookie(), "Origin": "null"}, 403),
        ({"Cookie": cookie(), "Origin": "ORIGIN", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Cookie": cookie(), "Origin": "ORIGIN.evil.example"}, 403),
    ],
)
def test_writes_without_the_key_are_refused(
    client: Client,
    private_user_dirs: Path,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    sent = {k: v.replace("ORIGIN", client.origin) for k, v in headers.items()}
    got, _, error = client.call(method, path, body, headers=sent)
    assert (got, error["field"]) == (status, "key"), error
    assert list(client.root.iterdir()) == []
    assert not (private_user_dirs / "config" / "profile.yaml").exists()
    assert client.get("/api/history")[1]["sessions"] == []


def test_the_cookie_from_our_own_page_writes(client: Client) -> None:
    headers = {"Cookie": cookie(), "Origin": client.origin, "Sec-Fetch-Site": "same-origin"}
    status, _, _ = client.call("POST", "/api/history", {"routine": ROUTINE, "minutes": 5}, headers)
    assert status == 201


def test_the_page_hands_out_the_key_once(client: Client) -> None:
    status, headers, _ = client.call("GET", f"/?key={KEY}", headers={})
    assert status == 303 and headers["Location"] == "/"
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}={KEY};")
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    # With the cookie the page can write (its QR code would carry the key, but this
    # server listens on 127.0.0.1, which no phone reaches: the page says so instead).
    _, _, page = client.call("GET", "/", headers={"Cookie": cookie()})
    assert b'data-can-write="true"' in page and b"voice-coach serve --lan" in page
    assert b"key-note" not in page
    # Without it: how to get it; a wrong key in the address is said so, and not kept.
    _, headers, page = client.call("GET", "/", headers={})
    assert b'data-can-write="false"' in page and b"key-note" in page and KEY.encode() not in page
    status, headers, page = client.call("GET", "/?key=wrong", headers={})
    assert status == 200 and "Set-Cookie" not in headers and b"not this server" in page
    assert "connect-src 'self'" in headers["Content-Security-Policy"]


def test_bodies_we_will_not_read(client: Client) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    big = b'{"routine": "' + b"x" * 20000 + b'"}'
    status, _, error = client.call(
        "POST", "/api/exports", raw=big, headers={**auth, "Content-Type": "application/json"}
    )
    assert (status, error["field"]) == (413, "body")
    status, _, error = client.call(
        "POST",
        "/api/exports",
        raw=b'{"routine": "x"}',
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert (status, error["field"]) == (415, "body")
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=5)
    try:
        conn.putrequest("POST", "/api/exports")
        conn.putheader("Authorization", f"Bearer {KEY}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"5\r\nhello\r\n0\r\n\r\n")
        response = conn.getresponse()
        assert response.status == 411 and json.loads(response.read())["field"] == "body"
    finally:
        conn.close()
    assert list(client.root.iterdir()) == []


def test_the_key_lives_in_the_config_dir(private_user_dirs: Path) -> None:
    key = load_key()
    path = private_user_dirs / "config" / KEY_FILE
    assert path.read_text().strip() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key() == key
    new = load_key(new=True)
    assert new != key and load_key() == new == path.read_text().strip()


def test_serve_prints_the_address_with_the_key_and_new_key_replaces_it(
    tmp_path: Path, private_user_dirs: Path
) -> None:
    import re
    import signal
    import subprocess
    import sys

    def first_line(*extra: str) -> str:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voice_coach",
                "serve",
                str(tmp_path / "made"),
                "--port",
                "0",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
            preexec_fn=ctrl_c_back,
        )
        try:
            assert proc.stdout is not None
            return proc.stdout.readline()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=10)

    line = first_line()
    key = (private_user_dirs / "config" / KEY_FILE).read_text().strip()
    assert re.search(rf"at http://127\.0\.0\.1:\d+/\?key={re.escape(key)}$", line.strip()), line
    assert (tmp_path / "made").is_dir()  # the export folder is made when missing
    assert key in first_line()
    line = first_line("--new-key")
    new = (private_user_dirs / "config" / KEY_FILE).read_text().strip()
    assert new != key and line.strip().endswith(f"?key={new}")


def test_names_with_quotes_are_only_text(client: Client) -> None:
    status, error = client.get("/api/routines/" + quote('<script>"x"'))
    assert status == 404 and error["error"].startswith("no routine named")


# -- pain and progress --------------------------------------------------------------------


def test_the_chart_of_the_history_is_an_svg_drawn_by_the_server(client: Client) -> None:
    for minutes in (5, 7):
        status, _, _ = client.call("POST", "/api/history", {"routine": ROUTINE, "minutes": minutes})
        assert status == 201
    status, headers, svg = client.call("GET", "/api/history/chart.svg", headers={})
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<script" not in svg and b"href" not in svg
    assert any("minutes" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_a_progression_is_turned_on_with_one_switch(client: Client) -> None:
    status, listed = client.get("/api/progressions")
    assert status == 200
    rows = {p["routine"]: p for p in listed["progressions"]}
    assert "walking" not in rows  # no progression in it
    assert rows["piriformis-stretch"]["build_up"] is False
    off = rows["piriformis-stretch"]["note"]
    assert off.startswith("progression off") and off.endswith("held back after a flare-up")
    assert "--" not in off  # the switch beside it, not a command-line option
    assert client.get("/api/routines/piriformis-stretch")[1]["progression"] == off
    status, _, saved = client.call(
        "PUT", "/api/profile/routines/piriformis-stretch", {"settings": {"build_up": True}}
    )
    assert status == 200 and saved["section"] == {"build_up": True}
    rows = {p["routine"]: p for p in client.get("/api/progressions")[1]["progressions"]}
    assert rows["piriformis-stretch"]["build_up"] is True
    assert rows["piriformis-stretch"]["note"] == (
        "stage 1 of 6: holds at 50 %; steps up after 2 more sessions without more pain"
    )


# -- pain ratings and notes -------------------------------------------------------------


def test_log_takes_the_pain_ratings_and_a_note_and_patch_corrects_them(client: Client) -> None:
    body = {"routine": ROUTINE, "minutes": 5, "pain": 3, "pain_before": 5, "note": "easier"}
    status, _, done = client.call("POST", "/api/history", body)
    assert status == 201, done
    session = done["session"]
    assert (session["pain_before"], session["pain_after"], session["note"]) == (5, 3, "easier")
    status, _, amended = client.call("PATCH", f"/api/history/{session['id']}", {"pain": 1})
    assert status == 200, amended
    assert (amended["session"]["pain_after"], amended["session"]["note"]) == (1, "easier")
    assert client.get("/api/history")[1]["sessions"][0]["pain_after"] == 1
    status, _, error = client.call("PATCH", "/api/history/99", {"pain": 1})
    assert (status, error["field"]) == (404, "id"), error
    status, _, error = client.call("PATCH", f"/api/history/{session['id']}", {"pain": 12})
    assert (status, error["field"]) == (400, "pain"), error
    assert client.get("/api/history")[1]["sessions"][0]["pain_after"] == 1


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"pain": 11}, "pain", "pain: a pain rating must be a whole number from 0 to 10, got 11"),
        ({"pain": "4"}, "pain", "pain: a pain rating must be a whole number, got '4'"),
        ({"pain_before": -1}, "pain_before", "pain_before: a pain rating must be a whole number"),
        ({"note": "x" * 501}, "note", "note: is 501 characters long; at most 500 allowed"),
        ({"settings": {"checkin": "never"}}, "checkin", "must be after or before or both or off"),
    ],
)
def test_bad_ratings_are_refused_with_the_command_lines_words(
    client: Client, given: dict[str, Any], field: str, words: str
) -> None:
    status, _, error = client.call("POST", "/api/history", {"routine": ROUTINE, **given})
    assert (status, error["field"]) == (400, field), error
    assert words in error["error"] and "\n" not in error["error"]
    assert client.get("/api/history")[1]["sessions"] == []
