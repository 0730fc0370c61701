"""Keep database passwords out of everything ``flask db`` prints.

Replacing every occurrence of a password as a substring mangles messages
when the password is an ordinary word (a password ``default`` turned
``default: upgrade r1 failed`` into ``***: upgrade r1 failed``), so a
password is removed where it stands as a password:

* the password part of any URL (``scheme://user:PASSWORD@host``), whether
  or not it is one of the app's, raw or URL-encoded;
* a ``password=...`` pair, as drivers write connection strings;
* a known password of the app's engines written between ``:`` and ``@``
  in either form, for URLs whose password holds characters the URL
  pattern stops at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?=@)")
_PAIR = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*)(?P<secret>'[^']*'|\"[^\"]*\"|[^\s,;)]+)",
    re.IGNORECASE,
)


def scrub(text: str, passwords: Iterable[str] = ()) -> str:
    """``text`` with each password (URL part, ``password=`` pair, known value) masked."""
    for password in sorted({str(p) for p in passwords if p}, key=len, reverse=True):
        for form in {
            password,
            quote(password, safe=""),
            quote_plus(password),
            _as_sqlalchemy_writes(password),
        }:
            text = text.replace(f":{form}@", f":{MASK}@")
    text = _URL_PASSWORD.sub(lambda match: f"{match['head']}{MASK}", text)
    return _PAIR.sub(lambda match: f"{match['head']}{MASK}", text)


def _as_sqlalchemy_writes(password: str) -> str:
    """The password as SQLAlchemy encodes it in a rendered URL (its own escaping)."""
    from sqlalchemy.engine import URL

    rendered = URL.create("x", username="u", password=password, host="h").render_as_string(
        hide_password=False
    )
    return rendered[len("x://u:") : -len("@h")]


def app_passwords() -> set[str]:
    """The passwords of the current app's database URLs; empty outside an app."""
    try:
        from .state import get_state

        engines = get_state().source.engines().values()
        return {str(engine.url.password) for engine in engines if engine.url.password}
    except Exception:  # no app, no db, or engines that cannot be built
        return set()
