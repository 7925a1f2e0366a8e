"""The JSON API under /api/, which the page uses and other tools can use too.

| method and path | what |
|---|---|
| GET /api/routines | every routine: name, title, description, total_ms, source |
| GET /api/routines/NAME?SETTINGS | one routine with the settings: steps, holds, length, sources |
| GET /api/routines/NAME/timeline?SETTINGS | exactly what `show NAME --json` prints |
| GET /api/routines/NAME/timeline.png?SETTINGS | the timeline picture |
| GET /api/voices | engines and their voices |
| POST /api/exports | `{"routine", "settings", "format"?, "bitrate"?}`: a render (202) |
| GET /api/exports/ID | `{"state", "progress", "url", ...}` |
| GET /api/history | streak, minutes per week, recent sessions (`history --json`) |
| POST /api/history | `{"routine", "minutes"?, "date"?, "settings"?, ANSWERS}`: as `log` |
| PATCH /api/history/ID | `{ANSWERS}`: its pain ratings or note corrected, as `amend` |
| PUT /api/profile/routines/NAME | `{"settings"}`: its profile section, as `settings --save` |

ANSWERS are `"pain"?, "pain_before"?, "note"?`: ratings 0-10 and up to 500 characters.
SETTINGS and "settings" use the command line's option names and values
(`hold=45&hold=Knee%20hug=60`, `{"hold": ["Knee hug=60"]}`: see `choices`). Errors are
`{"error": "...", "field": "..."}` with a 4xx status (`field` is null when the error is
about no single field). Every write needs the key (see `keys`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from ..errors import (
    Problem,
    RoutineNotFoundError,
    TimelineError,
    ValidationError,
    VoiceCoachError,
)
from .catalog import Catalog
from .choices import choices_from_json, choices_from_query, field_of
from .keys import write_refusal
from .renders import MAX_WAITING, Busy, Render, RenderQueue
from .scan import read_media

if TYPE_CHECKING:
    from ..practice import Answers

MAX_BODY_BYTES = 16 * 1024
"""Settings are a few hundred bytes; anything much larger is not a request of ours."""
MAX_QUERY_FIELDS = 200
MAX_MINUTES = 24 * 60
PAGE_FORMATS = ("mp3", "m4a", "ogg")
"""What the page offers to make: the formats a phone plays (WAV is too large)."""
RETRY_AFTER_S = 30


class ApiError(Exception):
    """A request the API refuses: its status, what is wrong, and which field."""

    def __init__(
        self,
        status: HTTPStatus,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """The path as sent (still %-encoded), without the query."""
    query: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    read_body: Callable[[int], bytes]
    """Reads that many bytes of the body; called only once the request may write."""
    base_url: str
    """The server as the client addressed it, e.g. http://192.168.1.20:8765/."""


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: HTTPStatus, data: Any, headers: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Reply(status, body, headers={"Cache-Control": "no-store", **(headers or {})})


def error_reply(error: ApiError) -> Reply:
    return json_reply(error.status, {"error": error.message, "field": error.field}, error.headers)


def _message(problem: Problem) -> str:
    return problem.message if problem.source.startswith("--") else str(problem)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


Route = Callable[["Api", Request, list[str]], Reply]


class Api:
    """The API of one server: its routines, renders, key and locks."""

    def __init__(
        self,
        root: Path,
        key: str,
        max_waiting: int = MAX_WAITING,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.key = key
        self.log = log
        speech_lock = threading.Lock()
        self.catalog = Catalog(speech_lock)
        self.renders = RenderQueue(self.root, speech_lock, max_waiting, log)
        self._profile_lock = threading.Lock()
        self._voices: dict[str, Any] | None = None
        self._voices_stamp: object = None

    def close(self) -> None:
        self.renders.close()

    # -- dispatch ---------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """The reply to `request`; never raises for a bad request."""
        try:
            parts = self._parts(request.path)
            routes = self._routes(parts)
            if routes is None:
                raise ApiError(HTTPStatus.NOT_FOUND, f"no such API endpoint: {request.path}")
            method = "GET" if request.method == "HEAD" else request.method
            route = routes.get(method)
            if route is None:
                allowed = ", ".join(sorted({*routes, *(["HEAD"] if "GET" in routes else [])}))
                raise ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    f"{request.method} is not allowed here; allowed: {allowed}",
                    headers={"Allow": allowed},
                )
            if method != "GET":
                refusal = write_refusal(request.headers, self.key)
                if refusal is not None:
                    raise ApiError(refusal[0], refusal[1], "key")
            return route(self, request, parts)
        except ApiError as exc:
            return error_reply(exc)
        except ValidationError as exc:
            problems = exc.problems or [Problem("", None, "", "invalid")]
            text = "; ".join(_message(p) for p in problems)
            return error_reply(ApiError(HTTPStatus.BAD_REQUEST, text, field_of(problems[0])))
        except RoutineNotFoundError as exc:
            return error_reply(ApiError(HTTPStatus.NOT_FOUND, str(exc), "routine"))
        except TimelineError as exc:
            return error_reply(ApiError(HTTPStatus.BAD_REQUEST, str(exc), "settings"))
        except VoiceCoachError as exc:
            if self.log:
                self.log(f"{request.method} {request.path}: {exc}")
            return error_reply(ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc)))

    @staticmethod
    def _parts(path: str) -> list[str]:
        """The segments after /api/, each decoded once."""
        try:
            return [
                unquote(part, errors="strict") for part in path.removeprefix("/api/").split("/")
            ]
        except UnicodeDecodeError:
            raise ApiError(HTTPStatus.NOT_FOUND, "not a valid path", "routine") from None

    @staticmethod
    def _routes(parts: list[str]) -> dict[str, Route] | None:
        match parts:
            case ["routines"]:
                return {"GET": Api.routines}
            case ["routines", _]:
                return {"GET": Api.routine}
            case ["routines", _, "timeline"]:
                return {"GET": Api.timeline}
            case ["routines", _, "timeline.png"]:
                return {"GET": Api.picture}
            case ["voices"]:
                return {"GET": Api.voices}
            case ["settings"]:
                return {"GET": Api.settings}
            case ["exports"]:
                return {"POST": Api.make}
            case ["exports", _]:
                return {"GET": Api.render_status}
            case ["history"]:
                return {"GET": Api.history, "POST": Api.record}
            case ["history", _]:
                return {"PATCH": Api.amend}
            case ["profile", "routines", _]:
                return {"PUT": Api.save}
        return None

    # -- reading ----------------------------------------------------------------------

    def routines(self, request: Request, parts: list[str]) -> Reply:
        return json_reply(HTTPStatus.OK, {"routines": self.catalog.listing()})

    def routine(self, request: Request, parts: list[str]) -> Reply:
        choices = choices_from_query(_query(request))
        return json_reply(HTTPStatus.OK, self.catalog.detail(parts[1], choices))

    def timeline(self, request: Request, parts: list[str]) -> Reply:
        _, ready = self.catalog.prepared(parts[1], choices_from_query(_query(request)))
        return json_reply(HTTPStatus.OK, ready.timeline.to_json())

    def picture(self, request: Request, parts: list[str]) -> Reply:
        png = self.catalog.picture(parts[1], choices_from_query(_query(request)))
        return Reply(HTTPStatus.OK, png, "image/png", {"Cache-Control": "no-store"})

    def settings(self, request: Request, parts: list[str]) -> Reply:
        """Every setting as the table declares it (`settings.table`): what the page
        builds its tune form from, and what other tools may send (those whose `layers`
        include "page")."""
        from ..settings.table import described

        return json_reply(HTTPStatus.OK, {"settings": described()})

    def voices(self, request: Request, parts: list[str]) -> Reply:
        """The engines and their voices: listed again when a package was installed or
        removed since (`speech.installed_stamp`), so a new voice shows without a restart."""
        from ..speech import default_engine, engine_statuses, installed_stamp

        stamp = installed_stamp()
        if self._voices is None or self._voices_stamp != stamp:
            self._voices_stamp = stamp
            self._voices = {
                "default": default_engine().name,
                "engines": [
                    {
                        "name": s.name,
                        "available": s.unavailable_reason is None,
                        "reason": s.unavailable_reason,
                        "voices": [
                            {"id": v.id, "name": v.name, "languages": list(v.languages)}
                            for v in s.voices
                        ],
                    }
                    for s in engine_statuses()
                ],
            }
        return json_reply(HTTPStatus.OK, self._voices)

    def render_status(self, request: Request, parts: list[str]) -> Reply:
        render = self.renders.get(parts[1])
        if render is None:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no render {parts[1]!r}", "id")
        return json_reply(HTTPStatus.OK, self._render_json(render, request.base_url))

    def history(self, request: Request, parts: list[str]) -> Reply:
        from ..history import History, summary_json

        with History.open() as h:
            return json_reply(HTTPStatus.OK, summary_json(h, datetime.now(UTC).date()))

    # -- writing ----------------------------------------------------------------------

    def make(self, request: Request, parts: list[str]) -> Reply:
        from ..export.routine import check_format

        body = _body(request, ("routine", "settings", "format", "bitrate"))
        name = _text(body, "routine")
        fmt = body.get("format", "mp3")
        bitrate = body.get("bitrate")
        if fmt not in PAGE_FORMATS:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                f"format must be one of {', '.join(PAGE_FORMATS)}, got {fmt!r}",
                "format",
            )
        if bitrate is not None and (isinstance(bitrate, bool) or not isinstance(bitrate, int)):
            raise ApiError(HTTPStatus.BAD_REQUEST, "bitrate must be a whole number", "bitrate")
        check_format(fmt, bitrate)
        checked = self.catalog.checked(name, choices_from_json(body.get("settings")))
        try:
            render = self.renders.submit(name, checked.plan, checked.voice, fmt, bitrate)
        except Busy:
            raise ApiError(
                HTTPStatus.TOO_MANY_REQUESTS,
                "too many renders are waiting; try again in a minute",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from None
        return json_reply(HTTPStatus.ACCEPTED, self._render_json(render, request.base_url))

    def record(self, request: Request, parts: list[str]) -> Reply:
        from ..history import History, summary_json
        from ..practice import ended_at, log_done, parse_day
        from ..prepare import prepare_plan

        body = _body(request, ("routine", "minutes", "date", "settings", *ANSWERS))
        answers = _answers(body)
        name = _text(body, "routine")
        minutes = body.get("minutes")
        if minutes is not None and (
            isinstance(minutes, bool)
            or not isinstance(minutes, int | float)
            or not 0 < minutes <= MAX_MINUTES
        ):
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                f"minutes must be a number above 0 and at most {MAX_MINUTES}, got {minutes!r}",
                "minutes",
            )
        day_text = body.get("date")
        if day_text is not None and not isinstance(day_text, str):
            raise ApiError(HTTPStatus.BAD_REQUEST, "date must be text, YYYY-MM-DD", "date")
        day = None if day_text is None else parse_day(day_text, "--date")
        plan = self.catalog.checked(name, choices_from_json(body.get("settings"))).plan
        if minutes is None:
            with self.catalog.speech_lock:
                length_s = prepare_plan(plan).timeline.total_ms / 1000
        else:
            length_s = minutes * 60
        now = datetime.now(UTC)
        with History.open() as h:
            session = log_done(plan, length_s, ended_at(day, now), h, answers)
            summary = summary_json(h, now.date())
        return json_reply(HTTPStatus.CREATED, {"session": session.to_json(), "history": summary})

    def amend(self, request: Request, parts: list[str]) -> Reply:
        from ..history import History
        from ..practice import amend

        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no session {parts[1]!r}", "id")
        answers = _answers(_body(request, ANSWERS))
        with History.open() as h:
            if h.session(int(parts[1])) is None:
                raise ApiError(HTTPStatus.NOT_FOUND, f"no session {parts[1]}", "id")
            try:
                session = amend(h, int(parts[1]), answers)
            except ValidationError as exc:
                raise ApiError(HTTPStatus.BAD_REQUEST, exc.problems[0].message) from None
        return json_reply(HTTPStatus.OK, {"session": session.to_json()})

    def save(self, request: Request, parts: list[str]) -> Reply:
        from ..plan import make_plan
        from ..settings.profile_edit import save_routine_settings
        from ..settings.words import Choices

        body = _body(request, None)
        settings = body["settings"] if set(body) == {"settings"} else body
        choices = choices_from_json(settings)
        path = str(self.catalog.path(parts[2]))
        with self._profile_lock:
            saved = save_routine_settings(path, choices)
        plan = make_plan(path, Choices())
        return json_reply(
            HTTPStatus.OK,
            {
                "routine": parts[2],
                "section": saved.section,
                "settings": [
                    {"name": s.name, "value": s.value, "from": s.source}
                    for s in plan.resolved.listing()
                ],
            },
        )

    # -- helpers ----------------------------------------------------------------------

    def _render_json(self, render: Render, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": render.id,
            "routine": render.routine,
            "state": render.state,
            "stage": render.stage,
            "progress": round(render.progress, 3),
            "url": None,
        }
        if render.state == "failed":
            out["error"] = render.error
        if render.state == "done":
            name = render.target.relative_to(self.root).as_posix()
            base = base_url.rstrip("/")
            info = read_media(render.target)
            out.update(
                url=f"{base}/{quote(name)}",
                file=name,
                title=info.title or render.target.stem,
                duration_ms=info.duration_ms,
                cover=f"{base}/cover/{quote(name)}.png" if info.cover else None,
                chapters=[
                    {"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms}
                    for c in info.chapters
                ],
            )
        return out


def _query(request: Request) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            request.query,
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            HTTPStatus.BAD_REQUEST, "the query string cannot be read", "settings"
        ) from None


def body_length(headers: Mapping[str, str]) -> int:
    """The length of a request's JSON body, refusing what we will not read: no
    length given (411), too large (413), not JSON (415)."""
    if "transfer-encoding" in headers or "content-length" not in headers:
        raise ApiError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length", "body")
    text = headers["content-length"].strip()
    if not text.isdigit():
        raise ApiError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number", "body")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {length} bytes; at most {MAX_BODY_BYTES} are read",
            "body",
        )
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON (Content-Type: application/json)", "body"
        )
    return length


def _body(request: Request, allowed: tuple[str, ...] | None) -> dict[str, Any]:
    """The request's JSON object; `allowed` names its keys (None: any)."""
    raw = request.read_body(body_length(request.headers))
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}", "body") from None
    if not isinstance(data, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object", "body")
    if allowed is not None:
        for key in data:
            if key not in allowed:
                raise ApiError(
                    HTTPStatus.BAD_REQUEST,
                    f"{key!r} is not part of this request; it takes {', '.join(allowed)}",
                    key,
                )
    return data


ANSWERS = ("pain", "pain_before", "note")
"""What a person says of a session, as `POST /api/history` and `PATCH` name it."""


def _answers(body: Mapping[str, Any]) -> Answers:
    """The ratings and note in `body`, checked as the command line checks them (the same
    words); a bad one is a 400 naming its field."""
    from ..practice import api_name, check_answers

    try:
        return check_answers(
            body.get("pain_before"), body.get("pain"), body.get("note"), named=api_name
        )
    except ValidationError as exc:
        first = exc.problems[0]
        text = "; ".join(str(p) for p in exc.problems)
        raise ApiError(HTTPStatus.BAD_REQUEST, text, first.source) from None


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{key} must be given, as text", key)
    return value
