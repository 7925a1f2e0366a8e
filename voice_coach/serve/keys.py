"""The key that writes need: kept in the config directory, given to the page once
through its address (`?key=...`), then kept by the browser in a cookie.

Reading stays open to whoever reaches the server. A write (make, save, log) needs
`Authorization: Bearer KEY`, or the key cookie together with an `Origin` header naming
this very server: a page from another site, open in the same browser, sends the
cookie along with a request it aims here (or would, without SameSite) but can never
make its `Origin` ours.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from ..atomic import partial_beside
from ..errors import ServeError
from ..paths import config_dir

KEY_FILE = "serve-key"
COOKIE = "voice_coach_key"
KEY_BYTES = 24
"""Random bytes in a key (32 URL-safe characters)."""
COOKIE_MAX_AGE_S = 400 * 24 * 3600
"""How long the phone keeps the key: the longest browsers allow."""


def key_path() -> Path:
    return config_dir() / KEY_FILE


def load_key(new: bool = False) -> str:
    """The server's key from the config directory; made (readable by this user only)
    when there is none yet, or when `new` asks for a fresh one."""
    path = key_path()
    if not new:
        try:
            key = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            key = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ServeError(f"cannot read the key {path}: {exc}") from None
        if len(key) >= 16:
            return key
    key = secrets.token_urlsafe(KEY_BYTES)
    try:
        with partial_beside(path) as tmp:
            os.chmod(tmp, 0o600)
            tmp.write_text(key + "\n", encoding="ascii")
            os.replace(tmp, path)
    except OSError as exc:
        raise ServeError(f"cannot write the key {path}: {exc.strerror or exc}") from None
    return key


def same_key(given: str | None, key: str) -> bool:
    """Whether `given` is the key; in constant time, so timing does not reveal it."""
    return given is not None and hmac.compare_digest(given.encode(), key.encode())


def cookie_key(headers: Mapping[str, str]) -> str | None:
    """The key the browser sent in its cookie, if any."""
    raw = headers.get("cookie")
    if not raw:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(raw)
    except CookieError:
        return None
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel is not None else None


def key_cookie(key: str) -> str:
    """A Set-Cookie value that keeps `key` in the browser. HttpOnly: no script reads
    it; SameSite=Strict: browsers do not send it with requests from other sites."""
    return f"{COOKIE}={key}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict"


def write_refusal(headers: Mapping[str, str], key: str) -> tuple[HTTPStatus, str] | None:
    """Why a write with these request headers (names in lower case) is refused
    (status, message), or None when it may go ahead."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not same_key(token.strip(), key):
            return HTTPStatus.FORBIDDEN, "wrong key"
        return None
    from_cookie = cookie_key(headers)
    if from_cookie is None:
        return (
            HTTPStatus.UNAUTHORIZED,
            "this needs the key: scan the QR code `voice-coach serve` shows in its "
            "terminal, or open the address it prints there",
        )
    if not same_key(from_cookie, key):
        return (
            HTTPStatus.FORBIDDEN,
            "the key this browser keeps is out of date; open the new address",
        )
    if not same_origin(headers):
        return HTTPStatus.FORBIDDEN, "refused: the request comes from another site"
    return None


def same_origin(headers: Mapping[str, str]) -> bool:
    """Whether the request says it comes from a page of this server: its `Origin` is
    exactly this server as the browser addressed it, and (where the browser says)
    `Sec-Fetch-Site` agrees."""
    origin, host = headers.get("origin"), headers.get("host")
    if not origin or not host:
        return False
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    return origin.lower() == f"http://{host}".lower()
