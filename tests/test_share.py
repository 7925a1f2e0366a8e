"""Sharing and adding routines through the API: the share view's addresses and QR
codes, the script download, the printable card, and "Add a routine" (valid files
written, broken ones answered with `validate`'s messages by line, the key required,
too large / not UTF-8 / a YAML bomb refused before parsing)."""

from __future__ import annotations

import base64
import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
import test_api
from conftest import FIXTURES, ROUTINES
from test_api import KEY, ROUTINE, Client, cookie
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.routine.library import find_routine
from voice_coach.routine.loader import load_routine

client = test_api.client
fake_default = test_api.fake_default
own_routines = test_api.own_routines  # autouse there, and so here
IMPORTS = FIXTURES / "imports"
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/octet-stream"}


def upload(
    client: Client,
    data: bytes,
    file: str,
    name: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict]:
    query = f"?file={quote(file)}" + (f"&name={quote(name)}" if name else "")
    status, _, reply = client.call(
        "POST", f"/api/routines{query}", raw=data, headers=headers or AUTH
    )
    return status, reply


def names(client: Client) -> list[str]:
    return [r["name"] for r in client.get("/api/routines")[1]["routines"]]


def test_a_valid_script_is_added_and_listed(client: Client, own_routines: Path) -> None:
    text = (ROUTINES / "minimal.yaml").read_bytes()
    status, reply = upload(client, text, "my-stretch.yaml")
    assert status == 201, reply
    assert reply["routines"] == [{"name": "my-stretch", "title": "Minimal", "notes": []}]
    assert (own_routines / "my-stretch.yaml").read_bytes() == text
    assert "my-stretch" in names(client)


def test_another_tools_file_is_imported_with_its_notes(client: Client, own_routines: Path) -> None:
    status, reply = upload(
        client, (IMPORTS / "w2a/workout.yaml").read_bytes(), "workout.yaml", "desk"
    )
    assert status == 201, reply
    (added,) = reply["routines"]
    assert added["name"] == "desk"
    assert [n["line"] for n in added["notes"]] == [3, 5, 17, 21, 22]
    assert load_routine(own_routines / "desk.yaml").title == "Workout"


def test_a_broken_file_gets_validates_messages_by_line(client: Client, own_routines: Path) -> None:
    source = ROUTINES / "invalid-many.yaml"
    status, reply = upload(client, source.read_bytes(), "invalid-many.yaml")
    assert status == 400 and reply["field"] == "file"
    assert reply["error"] == "6 problems in invalid-many.yaml; nothing was added"
    validated = CliRunner().invoke(app, ["validate", "--quick", str(source)])
    expected = [
        line.removeprefix("error: ").replace(str(source), "invalid-many.yaml")
        for line in validated.stderr.splitlines()
        if line.startswith("error: ")
    ]
    assert [p["text"] for p in reply["problems"]] == expected
    assert [p["line"] for p in reply["problems"]] == [2, 2, 3, 6, 7, 9]
    assert not own_routines.exists() or list(own_routines.iterdir()) == []


def test_messages_carry_no_path_of_the_server(
    client: Client, own_routines: Path, tmp_path: Path
) -> None:
    script = b"title: T\nsteps:\n  - name: A\n    hold: 5\n    bed: ~/calm.mp3\n"
    status, reply = upload(client, script, "/home/someone/../../etc/calm-routine.yaml")
    assert status == 400
    (problem,) = reply["problems"]
    assert problem["line"] == 5 and problem["text"].startswith("calm-routine.yaml:5: bed: ")
    assert "may not name a sound file" in problem["message"]
    assert str(tmp_path) not in problem["text"] and str(Path.home()) not in problem["text"]
    assert str(own_routines) not in str(reply)


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"Relax;30\n" * 30000, 413, "up to 256 KB"),
        ("title: Schön\nsteps: [{rest: 5}]\n".encode("latin-1"), 400, "is not UTF-8"),
        ((IMPORTS / "w2a/invalid-bomb.yaml").read_bytes(), 400, "refused: its aliases"),
        (b"Buy milk.\n", 400, "is not in a format that can be imported"),
        (b"{", 400, "not valid JSON"),
    ],
)
def test_refused_before_parsing(
    client: Client, own_routines: Path, data: bytes, status: int, words: str
) -> None:
    got, reply = upload(client, data, "x.yaml")
    assert got == status
    assert words in reply["error"] + str(reply.get("problems"))
    assert not own_routines.exists() or list(own_routines.iterdir()) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/octet-stream"},
        {"Authorization": "Bearer wrong"},
        {"Cookie": cookie(), "Origin": "http://evil.example"},
    ],
)
def test_adding_needs_the_key(client: Client, own_routines: Path, headers: dict[str, str]) -> None:
    status, reply = upload(
        client, (ROUTINES / "minimal.yaml").read_bytes(), "m.yaml", headers=headers
    )
    assert status in (401, 403) and reply["field"] == "key"
    assert not own_routines.exists()


def test_a_name_taken_or_bundled_is_refused(client: Client, own_routines: Path) -> None:
    text = (ROUTINES / "minimal.yaml").read_bytes()
    assert upload(client, text, "mine.yaml")[0] == 201
    status, reply = upload(client, text, "mine.yaml")
    assert status == 400 and "exists already" in reply["problems"][0]["message"]
    status, reply = upload(client, text, "x.yaml", ROUTINE)
    assert status == 400 and "bundled routine" in reply["problems"][0]["message"]
    status, reply = upload(client, text, "x.yaml", "../up")
    assert status == 400 and "cannot name a routine" in reply["error"] + str(reply["problems"])


def test_share_view_script_and_card(client: Client) -> None:
    status, share = client.get(f"/api/routines/{ROUTINE}/share")
    assert status == 200
    base = client.origin
    assert share["links"] == {
        "page": f"{base}/",
        "script": f"{base}/api/routines/{ROUTINE}/script",
        "card": f"{base}/api/routines/{ROUTINE}/card",
        "mp3": None,
    }
    assert set(share["qr"]) == {"page", "script"}
    assert base64.b64decode(share["qr"]["page"].split(",", 1)[1]).startswith(b"<svg")
    (client.root / f"{ROUTINE}-hold-45.mp3").write_bytes(b"not really audio")
    (client.root / "other.mp3").write_bytes(b"")
    _, share = client.get(f"/api/routines/{ROUTINE}/share")
    assert share["links"]["mp3"] == f"{base}/{ROUTINE}-hold-45.mp3"
    assert set(share["qr"]) == {"page", "script", "mp3"}

    status, headers, script = client.call("GET", f"/api/routines/{ROUTINE}/script", headers={})
    assert status == 200 and script == find_routine(ROUTINE).read_bytes()
    assert headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{ROUTINE}.yaml"

    status, headers, card = client.call("GET", f"/api/routines/{ROUTINE}/card?hold=45", headers={})
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src" not in headers["Content-Security-Policy"]
    page = card.decode()
    assert "<h1>Sciatica relief routine</h1>" in page
    assert re.findall(r'<span class="dose">([^<]*)</span>', page)[2] == "hold 45 s"
    assert page.count("<figure") == 3  # the page, the MP3, the routine itself
    assert client.get("/api/routines/nope/share")[0] == 404


def test_a_file_cut_short_is_not_added(client: Client, own_routines: Path) -> None:
    """The phone hangs up part-way through a valid script: nothing is written."""
    script = (ROUTINES / "minimal.yaml").read_bytes()
    with socket.create_connection(("127.0.0.1", client.port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/routines?file=m.yaml HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(script) + 100}\r\n\r\n".encode()
            + script
        )
        conn.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 400") or reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"cut short" in reply
    assert not own_routines.exists()


def test_a_missing_file_on_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", str(tmp_path / "gone.json")])
    assert result.exit_code == 2
    assert (
        f"error: {tmp_path / 'gone.json'}: cannot read: No such file or directory" in result.stderr
    )
