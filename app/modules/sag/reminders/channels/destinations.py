"""Chat and webhook destinations: the channel `dest:<slug>`, one message per firing through Apprise.

An admin defines a destination (reminders/destinations.py) as an Apprise URL (Teams, Slack,
generic JSON or form webhooks ...); a rule that names `dest:<slug>` among its channels gets
one log row per firing for it (`per_firing`: no user, no preferences, no quiet hours, no
hourly limit), written `pending` and handed over here after e-mail.

Apprise calls block, so each message is sent on a thread of its own and waited for at most
the timeout (sag setting DESTINATION_TIMEOUT_S; Apprise's socket timeouts are a little longer):
a hanging service fails its row ("timed out") and the event is retried with the engine's
back-off, while in-app rows were written and e-mails sent before. The URL holds the service's
token, so it is never logged: Apprise's own log records stay out of the hub's logs (they are
read per sending thread into the error text, with the URL's parts blanked out).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg

from app.core import database, formats, i18n, sealing
from app.core.config import get_settings
from app.core.i18n import _
from app.core.queries import load_queries
from app.modules.sag.reminders.email import speaking
from app.modules.sag.reminders.tunables import tunable

if TYPE_CHECKING:
    from app.modules.sag.reminders.channels import DeliveryContext, Summary

PREFIX = "dest:"
SEAL_PURPOSE = "sag-destination-url"
TIMEOUT_SETTING = "DESTINATION_TIMEOUT_S"  # sag setting: seconds one message may take (module.json)
CHUNK = 20  # rows sent at once (in parallel) between two lease renewals
ERROR_MAX_CHARS = 1000
REDACTED = "***"
SEND_THREAD = "sag-destination-send"
MIN_SECRET_CHARS = 3  # URL parts shorter than this are not blanked out of error texts
# Apprise's socket timeouts run this much longer than the hub's wait, so that the wait decides when
# a hang becomes "timed out after N s": with equal clocks a busy machine let the socket's timeout
# win the race now and then, and the row said "Connection error" for the same hang.
SOCKET_TIMEOUT_MARGIN_S = 2.0

Q = load_queries(Path(__file__).resolve().parents[1] / "queries" / "destinations.sql")
log = logging.getLogger("app.modules.sag")


class _PerThreadCapture(logging.Handler):
    """Apprise's warnings, collected per sending thread (they explain a failure)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        lines = self.lines.get(threading.get_ident())
        if lines is not None:
            lines.append(record.getMessage())


class _NotFromSendThreads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != SEND_THREAD


_capture = _PerThreadCapture()
_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False  # its debug lines carry the whole URL: never into the hub's log
_apprise_log.addHandler(_capture)
_not_from_send_threads = _NotFromSendThreads()


def _quiet_libraries() -> None:
    """The HTTP libraries under Apprise log request paths at debug level (urllib3: "POST /<token>"):
    what any library logs on a sending thread is dropped (Apprise's own records, which do not
    reach the hub's handlers, stay readable for the error text)."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and not name.startswith(("app.", "apprise")) \
                and _not_from_send_threads not in logger.filters:
            logger.addFilter(_not_from_send_threads)


def timeout_s() -> float:
    return float(tunable(TIMEOUT_SETTING))


def redact(text: str, url: str) -> str:
    """`text` with every part of `url` that may be secret (user, password, path, query, the whole) blanked."""
    secrets = {url}
    try:
        parts = urlsplit(url)
        secrets |= {parts.netloc, parts.username or "", parts.password or "", parts.fragment,
                    *parts.path.split("/"), *(v for _k, v in parse_qsl(parts.query)), parts.query}
    except ValueError:  # not even a URL: the whole string, blanked, is enough
        pass
    secrets |= {unquote(s) for s in secrets}
    for secret in sorted((s for s in secrets if len(s) >= MIN_SECRET_CHARS), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def instantiate(url: str) -> tuple[Any, str | None]:
    """(Apprise plugin, None) for a valid URL, else (None, why). Parses only: no network."""
    import apprise  # loads every Apprise plugin (seconds): only in processes that send or check a URL

    lines = _capture.lines[threading.get_ident()] = []
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    finally:
        _capture.lines.pop(threading.get_ident(), None)
    _quiet_libraries()
    if plugin is None:
        why = "; ".join(lines) or "unknown scheme or missing parts"
        return None, f"not a valid Apprise URL ({redact(why, url)})"
    return plugin, None


def _notify(plugin: Any, title: str, body: str, result: dict[str, str | None]) -> None:
    lines = _capture.lines[threading.get_ident()] = []
    try:
        ok = plugin.notify(body=body, title=title)
        result["error"] = None if ok else ("; ".join(lines) or "the service did not accept the message")
    except Exception as exc:  # noqa: BLE001 - a plugin's error is this message's outcome
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        _capture.lines.pop(threading.get_ident(), None)


def send_many(messages: Sequence[tuple[str, str, str]], timeout: float | None = None) -> list[str | None]:
    """Send (url, title, body) messages at once; per message None (sent) or the error, within `timeout`.

    A thread still waiting at the deadline is left to end on Apprise's own socket timeout
    (a daemon thread: it never holds up the worker or its exit).
    """
    timeout = timeout_s() if timeout is None else timeout
    results: list[dict[str, str | None]] = [{} for _ in messages]
    threads: list[threading.Thread | None] = []
    for (url, title, body), res in zip(messages, results, strict=True):
        plugin, why = instantiate(url)
        if plugin is None:
            res["error"] = why
            threads.append(None)
            continue
        plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout + SOCKET_TIMEOUT_MARGIN_S
        threads.append(threading.Thread(target=_notify, args=(plugin, title, body, res), daemon=True,
                                        name=SEND_THREAD))
    deadline = time.monotonic() + timeout
    for t in threads:
        if t is not None:
            t.start()
    for t in threads:
        if t is not None:
            t.join(max(0.0, deadline - time.monotonic()))
    out: list[str | None] = []
    for (url, _title, _body), t, res in zip(messages, threads, results, strict=True):
        if (t is not None and t.is_alive()) or "error" not in res:
            out.append(f"timed out after {timeout:g} s")
        else:
            out.append(None if res["error"] is None else redact(str(res["error"]), url)[:ERROR_MAX_CHARS])
    return out


def _deadline_text(value: Any) -> str:
    if value is None:
        return _("none")
    return f"{formats.format_datetime(value)} {formats.to_local(value).tzname() or ''}".rstrip()


def message_text(row: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of one firing: the reminder, the case, its status, assignee, deadline and a link,
    in the hub's language (a chat channel is read by many)."""
    base = get_settings().base_url.rstrip("/")
    with speaking(i18n.default_language()):
        status = (row.get("status_label_da") if i18n.get_language() == "da" else None) \
            or row.get("status_label") or row.get("status") or ""
        lines = [_("Case #%(id)s: %(title)s", id=row["sag_id"], title=row.get("case_title") or ""),
                 _("Status: %(status)s", status=status),
                 _("Assignee: %(name)s", name=row.get("assignee_name") or _("unassigned")),
                 _("Deadline: %(when)s", when=_deadline_text(row.get("deadline")))]
        if row.get("message"):
            lines += ["", str(row["message"])]
        url = f"{base}/sag/{row['sag_id']}"
        lines += ["", _("Open: %(url)s", url=url)]
    return str(row["title"]), "\n".join(lines)


class Destination:
    """One admin-defined destination as a channel (built from its sag_destinations row)."""

    preference = None
    quiet_hours = False
    rate_limited = False
    external = False
    pending = True
    per_firing = True
    chunk_size = CHUNK

    def __init__(self, row: dict[str, Any]):
        self.name = PREFIX + row["slug"]
        self.label = row["name"]
        self.url_sealed = row["url_sealed"]
        self.where = f"{row['url_scheme']}://{row['url_host']}"

    def deliver(self, conn: psycopg.Connection, rows: Sequence[dict[str, Any]],
                ctx: DeliveryContext) -> dict[int, str | None]:
        try:
            url = sealing.unseal(SEAL_PURPOSE, self.url_sealed)
        except sealing.Unreadable as exc:
            return dict.fromkeys((r["id"] for r in rows), f"{self.where}: {exc}; save the destination's URL again")
        errors = send_many([(url, *message_text(r)) for r in rows])
        for row, err in zip(rows, errors, strict=True):
            if err is not None:
                log.warning("reminder destination %s (%s) failed for log row %s: %s",
                            self.name, self.where, row["id"], err)
        return {r["id"]: None if e is None else f"{self.where}: {e}" for r, e in zip(rows, errors, strict=True)}

    def send_summary(self, user: dict[str, Any], summary: Summary) -> str | None:
        # Summaries are a user's (held back, quiet hours); a destination gets each firing instead.
        return "destinations get no per-user summaries"


def load(conn: psycopg.Connection | None, slugs: list[str]) -> list[Destination]:
    """The destinations with these slugs (unknown ones are left out)."""
    params = {"slugs": slugs}
    if conn is None:
        rows = database.execute_query(Q["read_destination_channels"], params)
    else:
        with conn.transaction():
            rows = conn.execute(Q["read_destination_channels"], params).fetchall()
    return [Destination(r) for r in rows]
