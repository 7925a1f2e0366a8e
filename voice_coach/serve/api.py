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
| GET /api/history/chart.svg | minutes and average pain per week, as an SVG (no script, no font) |
| GET /api/progressions | every routine with a progression: on or off, and where it stands |
| GET /api/plans | every plan, planned against done per week, streaks, and today |
| PUT /api/plans/NAME | `{"at", "days"?, "times_per_week"?}`: its plan, as `plan NAME` |
| DELETE /api/plans/NAME | no plan for it any more, as `plan NAME --clear` |
| GET /api/routines/NAME/share | its page, script, card and MP3 addresses, each with a QR code |
| GET /api/routines/NAME/script | its script, to download |
| GET /api/routines/NAME/card?SETTINGS | its one-page card (HTML), to print |
| POST /api/routines?file=FILE&name=NAME | the body a routine file (ours, or any `import` reads): |
| | written into the routines folder when valid (201), else its problems by line (400) |

ANSWERS are `"pain"?, "pain_before"?, "note"?`: ratings 0-10 and up to 500 characters.
SETTINGS and "settings" use the command line's option names and values
(`hold=45&hold=Knee%20hug=60`, `{"hold": ["Knee hug=60"]}`: see `choices`). Errors are
`{"error": "...", "field": "..."}` with a 4xx status (`field` is null when the error is
about no single field); a refused setting adds `problems`, each with its field and step,
for the page to show beside the field. No reply carries a path of this computer
(`without_paths`). Every write needs the key (see `keys`).
"""

from __future__ import annotations

import json
import re
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
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.problems = problems


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
    data: dict[str, Any] = {"error": without_paths(error.message), "field": error.field}
    if error.problems is not None:
        data["problems"] = error.problems
    return json_reply(error.status, data, error.headers)


_PATH = re.compile(r"(?<![\w./:])/(?:[^\s/:'\"]+/)+(?=[^\s/:'\"]+)")
"""The folders of an absolute path, up to its last name."""


def without_paths(text: str) -> str:
    """`text` with every absolute path cut to its last name: a path of this computer
    means nothing on a phone, and is none of its business."""
    return _PATH.sub("", text)


def _message(problem: Problem) -> str:
    return problem.message if problem.source.startswith("--") else str(problem)


_STEP_VALUE = re.compile(r"--[a-z-]+ '(.+)'")
"""How a problem names a value given for one step: `--hold 'Knee hug=x'`."""


def _problem_json(problem: Problem) -> dict[str, Any]:
    """One problem for the page: the setting, the step it is about (as the request
    named it: "Knee hug" or "7"; None for every step) and what is wrong."""
    from ..settings.words import split_step

    match = _STEP_VALUE.fullmatch(problem.source)
    step = split_step(match.group(1))[0] if match else None
    return {"field": field_of(problem), "step": step, "message": without_paths(_message(problem))}


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
        self.renders = RenderQueue(self.root, speech_lock, max_waiting, log)
        self.catalog = Catalog(speech_lock, self.renders.busy)
        self._profile_lock = threading.Lock()
        self._voices: dict[str, Any] | None = None
        self._voices_stamp: object = None

    def close(self) -> None:
        self.renders.close()
        self.catalog.close()

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
            listed = [_problem_json(p) for p in problems]
            return error_reply(
                ApiError(HTTPStatus.BAD_REQUEST, text, field_of(problems[0]), problems=listed)
            )
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
                return {"GET": Api.routines, "POST": Api.add}
            case ["routines", _, "share"]:
                return {"GET": Api.share}
            case ["routines", _, "script"]:
                return {"GET": Api.script}
            case ["routines", _, "card"]:
                return {"GET": Api.card}
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
            case ["history", "chart.svg"]:
                return {"GET": Api.history_chart}
            case ["history", _]:
                return {"PATCH": Api.amend}
            case ["profile", "routines", _]:
                return {"PUT": Api.save}
            case ["progressions"]:
                return {"GET": Api.progressions}
            case ["plans"]:
                return {"GET": Api.plans}
            case ["plans", _]:
                return {"PUT": Api.set_plan, "DELETE": Api.clear_plan}
        return None

    # -- reading ----------------------------------------------------------------------

    def routines(self, request: Request, parts: list[str]) -> Reply:
        routines = self.catalog.listing()
        for entry in routines:
            if "error" in entry:
                entry["error"] = without_paths(entry["error"])
        return json_reply(HTTPStatus.OK, {"routines": routines})

    def routine(self, request: Request, parts: list[str]) -> Reply:
        choices = choices_from_query(_query(request))
        detail = self.catalog.detail(parts[1], choices)
        detail["warnings"] = [without_paths(w) for w in detail["warnings"]]
        return json_reply(HTTPStatus.OK, detail)

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

    def history_chart(self, request: Request, parts: list[str]) -> Reply:
        """What `history --plot` draws, as an SVG the page puts in itself."""
        from ..history import History
        from ..progress import chart, chart_svg, weeks_of

        with History.open() as h:
            sessions = h.sessions()
        svg = chart_svg(chart(weeks_of(sessions, datetime.now(UTC).date())))
        return Reply(
            HTTPStatus.OK, svg.encode("utf-8"), "image/svg+xml", {"Cache-Control": "no-store"}
        )

    def progressions(self, request: Request, parts: list[str]) -> Reply:
        """Every routine whose script carries a progression: whether it is followed
        (`build_up`), and where it stands and why (as `settings` says it)."""
        from ..plan import load, make_plan
        from .catalog import progression_for_page, routine_paths

        out = []
        for name, (path, _) in routine_paths().items():
            try:
                if load(str(path)).progression is None:
                    continue
                plan = make_plan(str(path))
            except VoiceCoachError:
                continue  # the catalog reports a broken routine where it is picked
            out.append(
                {
                    "routine": name,
                    "title": plan.original.title,
                    "build_up": not plan.stage.off,
                    "note": progression_for_page(plan),
                }
            )
        return json_reply(HTTPStatus.OK, {"progressions": out})

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

    def plans(self, request: Request, parts: list[str]) -> Reply:
        return json_reply(HTTPStatus.OK, _plans_json())

    def set_plan(self, request: Request, parts: list[str]) -> Reply:
        from ..adherence import local_zone
        from ..settings.profile_edit import save_schedule

        body = _body(request, ("at", "days", "times_per_week"))
        at = body.get("at")
        if not isinstance(at, list) or not all(isinstance(t, str) for t in at):
            raise ApiError(HTTPStatus.BAD_REQUEST, "at must be a list of times, HH:MM", "at")
        days = body.get("days")
        if days is not None and not (
            isinstance(days, str)
            or (isinstance(days, list) and all(isinstance(d, str) for d in days))
        ):
            raise ApiError(HTTPStatus.BAD_REQUEST, "days must be text or a list of days", "days")
        per_week = body.get("times_per_week")
        if per_week is not None and (isinstance(per_week, bool) or not isinstance(per_week, int)):
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "times_per_week must be a whole number", "times_per_week"
            )
        today = datetime.now(local_zone()).date()
        with self._profile_lock:
            save_schedule(parts[1], at, days, per_week, today)
        return json_reply(HTTPStatus.OK, _plans_json())

    def clear_plan(self, request: Request, parts: list[str]) -> Reply:
        from ..settings.profile_edit import clear_schedule

        with self._profile_lock:
            clear_schedule(parts[1])
        return json_reply(HTTPStatus.OK, _plans_json())

    # -- sharing and adding routines (`share`) -----------------------------------------

    def share(self, request: Request, parts: list[str]) -> Reply:
        from ..routine.loader import load_routine
        from .share import share_json

        routine = load_routine(self.catalog.path(parts[1]))
        data = share_json(parts[1], routine.title, routine.slug, request.base_url, self.root)
        return json_reply(HTTPStatus.OK, data)

    def script(self, request: Request, parts: list[str]) -> Reply:
        path = self.catalog.path(parts[1])
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ApiError(
                HTTPStatus.NOT_FOUND, f"cannot read {parts[1]!r}: {exc.strerror}"
            ) from None
        disposition = f"attachment; filename*=UTF-8''{quote(parts[1])}.yaml"
        return Reply(
            HTTPStatus.OK,
            text,
            "text/yaml; charset=utf-8",
            {"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    def card(self, request: Request, parts: list[str]) -> Reply:
        from ..export.card import CardLinks, card_html
        from .share import CARD_POLICY, mp3_of

        plan, ready = self.catalog.prepared(parts[1], choices_from_query(_query(request)))
        base = request.base_url.rstrip("/")
        mp3 = mp3_of(self.root, plan.routine.slug)
        links = CardLinks(f"{base}/", f"{base}/{quote(mp3)}" if mp3 else None)
        page = card_html(plan.routine, ready.timeline, links)
        headers = {"Content-Security-Policy": CARD_POLICY, "Cache-Control": "no-store"}
        return Reply(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8", headers)

    def add(self, request: Request, parts: list[str]) -> Reply:
        from ..paths import routines_dir
        from .share import add_routine, problems_json, upload_name

        length = upload_length(request.headers)
        params = dict(_query(request))
        data = request.read_body(length)
        if len(data) != length:  # the phone hung up part-way: never add half a file
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "the file arrived cut short; send it again", "file"
            )
        file = upload_name(params.get("file"))
        try:
            added = add_routine(data, file, routines_dir(), params.get("name") or None)
        except ValidationError as exc:
            n = len(exc.problems)
            return json_reply(
                HTTPStatus.BAD_REQUEST,
                {
                    "error": f"{n} problem{'s' if n != 1 else ''} in {file}; nothing was added",
                    "field": "file",
                    "problems": problems_json(exc.problems),
                },
            )
        return json_reply(
            HTTPStatus.CREATED,
            {
                "routines": [
                    {"name": a.name, "title": a.title, "notes": problems_json(list(a.notes))}
                    for a in added
                ]
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
        if render.state == "queued":
            ahead = self.renders.ahead(render)
            out.update(stage="waiting" if ahead else "queued", ahead=ahead)
        if render.state == "failed":
            out["error"] = without_paths(render.error or "")
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


def _plans_json() -> dict[str, Any]:
    """Every plan with how well it was kept, and what today asks (`today`)."""
    from ..adherence import local_zone, practice_status
    from ..history import History

    now = datetime.now(local_zone())
    with History.open() as h:
        status = practice_status(None, now, h)
    t = status.today
    return {
        "plans": [kept.to_json() for kept in status.adherence],
        "today": {
            "day": t.day.isoformat(),
            "sessions": [
                {"routine": x.routine, "at": x.at.strftime("%H:%M"), "done": x.done}
                for x in t.slots
            ],
            "due_now": list(t.due_now),
            "next": None
            if t.next is None
            else {"routine": t.next.routine, "at": t.next.at.isoformat(timespec="minutes")},
            "resting": list(t.resting),
        },
        "rest_days": [d.isoformat() for d in sorted(status.rest_days)],
    }


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


def upload_length(headers: Mapping[str, str]) -> int:
    """The length of an uploaded routine file, refusing what will not be read before
    reading it: no length given (411), too large (413)."""
    from .share import MAX_UPLOAD_BYTES

    if "transfer-encoding" in headers or "content-length" not in headers:
        raise ApiError(HTTPStatus.LENGTH_REQUIRED, "send the file with a Content-Length", "file")
    text = headers["content-length"].strip()
    if not text.isdigit():
        raise ApiError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number", "file")
    length = int(text)
    if length > MAX_UPLOAD_BYTES:
        raise ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the file is {length // 1024} KB; routines up to {MAX_UPLOAD_BYTES // 1024} KB "
            "are taken",
            "file",
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
