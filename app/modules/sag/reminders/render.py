"""Rendering a rule's title and message: sandboxed Jinja2 with the case's fields.

Rule templates are written by users, so they run in Jinja2's SandboxedEnvironment (no
attribute access to internals, no imports). Output is plain text: HTML escaping happens
where the text is shown (page templates, e-mail), never here.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from app.core import i18n
from app.core.config import get_settings

TITLE_MAX_CHARS = 500
MESSAGE_MAX_CHARS = 5000
TEMPLATE_CACHE_SIZE = 512
DESCRIPTION_EXCERPT_CHARS = 300


class ReminderTemplateError(Exception):
    """A rule's template does not compile or fails to render; the message says where."""


def _fmt_datetime(value: Any, fmt: str = "%Y-%m-%d %H:%M", tz: str | None = None) -> str:
    if isinstance(value, str):
        # Event data arrives as JSON, so its timestamps are ISO strings.
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    zone = ZoneInfo(tz or get_settings().timezone)
    return value.astimezone(zone).strftime(fmt) if value.tzinfo else value.strftime(fmt)


MAX_REPEAT_CHARS = 10_000  # "x" * n in a template may build at most this much
MAX_EXPONENT = 64


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox also bounds the arithmetic a user template may ask for: a rule like
    {{ "x" * 10**9 }} must fail with an error on the event, not exhaust the worker."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large")
            return left ** right
        if isinstance(left, (str, list, tuple)) and isinstance(right, int) and len(left) * right > MAX_REPEAT_CHARS:
            raise SecurityError("repeated value would be too large")
        if isinstance(right, (str, list, tuple)) and isinstance(left, int) and len(right) * left > MAX_REPEAT_CHARS:
            raise SecurityError("repeated value would be too large")
        return left * right


_env = _BoundedSandbox(autoescape=False, undefined=StrictUndefined, trim_blocks=True)
# Only filters whose output stays about the size of their input (no center/indent/format
# widths, no batch/slice of huge ranges) are offered to rule templates.
SAFE_FILTERS = ("abs", "capitalize", "d", "default", "e", "escape", "first", "float", "int", "join", "last",
                "length", "lower", "replace", "round", "string", "striptags", "title", "trim", "truncate",
                "upper", "wordcount", "count", "list", "sort", "unique", "min", "max", "sum")
_env.filters = {name: _env.filters[name] for name in SAFE_FILTERS if name in _env.filters}
_env.filters["datetime"] = _fmt_datetime
# Loops are not offered either: nested loops could keep a worker busy for hours.
FORBIDDEN_NODES = (nodes.For, nodes.Macro, nodes.CallBlock)


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compile(source: str):
    tree = _env.parse(source)
    for node_type in FORBIDDEN_NODES:
        if next(tree.find_all(node_type), None) is not None:
            raise TemplateSyntaxError("loops and macros are not allowed in reminder templates",
                                      lineno=1)
    return _env.from_string(source)


def check_template(source: str, field: str) -> None:
    """Raise ReminderTemplateError when `source` does not compile (used when saving a rule)."""
    try:
        _compile(source)
    except TemplateError as exc:
        raise ReminderTemplateError(f"{field}: {exc}") from exc


_GLOBALS = dict(_env.globals)
_DICT_ATTRIBUTES = frozenset(dir(dict))  # `d.items` is the method to Jinja, not d["items"]
_MISSING = object()


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _plan(source: str) -> tuple[str | tuple[str, ...], ...] | None:
    """A template that only prints variables ("#{{ case.number }} {{ case.title }}", the common
    rule) as its text and the variables' paths; None for anything else (filters, tags, ...)."""
    try:
        tree = _env.parse(source)
    except TemplateError:
        return None
    parts: list[str | tuple[str, ...]] = []
    for output in tree.body:
        if type(output) is not nodes.Output:
            return None
        for node in output.nodes:
            if type(node) is nodes.TemplateData:
                parts.append(node.data)
                continue
            path = []
            while type(node) is nodes.Getattr:
                path.append(node.attr)
                node = node.node
            if type(node) is not nodes.Name:
                return None
            parts.append((node.name, *reversed(path)))
    return tuple(parts)


def _render_plan(plan: tuple[str | tuple[str, ...], ...], context: dict[str, Any]) -> str | None:
    """What Jinja prints for `plan` (str() of each value, looked up in dicts by key), or None
    when a lookup is anything else (a missing name, an attribute, a global): Jinja decides then.
    Per firing this saves Jinja's context and generator (see bench/reminder_throughput.py)."""
    out = []
    for part in plan:
        if type(part) is str:
            out.append(part)
            continue
        value = context.get(part[0], _MISSING)
        if value is _MISSING:
            return None
        for name in part[1:]:
            if type(value) is not dict or name in _DICT_ATTRIBUTES or name not in value:
                return None
            value = value[name]
        out.append(str(value))
    return "".join(out)


def render(source: str, context: dict[str, Any], limit: int) -> str:
    if "{" not in source:  # plain text: nothing to render
        return source.strip()[:limit]
    plan = _plan(source)
    if plan is not None and (text := _render_plan(plan, context)) is not None:
        return text.strip()[:limit]
    return _render_jinja(source, context, limit)


def _render_jinja(source: str, context: dict[str, Any], limit: int) -> str:
    try:
        template = _compile(source)
        # What Template.render does, minus copying the globals ChainMap on every call
        # (this runs for every firing; see bench/reminder_throughput.py).
        ctx = template.new_context({**_GLOBALS, **context}, shared=True)
        text = _env.concat(template.root_render_func(ctx))
    except TemplateError as exc:
        raise ReminderTemplateError(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a user template may fail in any way
        raise ReminderTemplateError(f"{type(exc).__name__}: {exc}") from exc
    return text.strip()[:limit]


def case_context(row: dict[str, Any]) -> dict[str, Any]:
    """The variables a rule template sees, from an event row joined with its case and rule."""
    description = row.get("description") or ""
    data = row.get("event_data") or {}
    case = {
        "id": row.get("sag_id"),
        "number": row.get("sag_id"),
        "title": row.get("case_title") or "",
        "description": description,
        "excerpt": description[:DESCRIPTION_EXCERPT_CHARS],
        "status": row.get("status"),
        # A firing is rendered once for all its recipients: the status name in the hub's language.
        "status_label": _status_label(row),
        "priority": row.get("case_priority"),
        "deadline": row.get("deadline"),
        "customer": row.get("customer_name") or "",
        "assignee": row.get("assignee_name") or "",
        "url": f"{get_settings().base_url.rstrip('/')}/sag/{row.get('sag_id')}",
    }
    return {
        "case": case,
        "sag": case,
        "rule": {"name": row.get("rule_name") or "", "trigger_type": row.get("trigger_type")},
        "event": data,
        "old_status": data.get("from"),
        "new_status": data.get("to"),
        "occurrence": data.get("occurrence", 1),
        "sla": _sla_context(data) if row.get("trigger_type") == "sla" else None,
    }


def _status_label(row: dict[str, Any]) -> Any:
    if i18n.get_language() == "da" and row.get("status_label_da"):
        return row["status_label_da"]
    return row.get("status_label") or row.get("status")


def _sla_context(data: dict[str, Any]) -> dict[str, Any]:
    """An sla firing's threshold: `sla.threshold` (percent), `sla.target` (response/resolution),
    `sla.due_at` (the target's due time) and `sla.fire_at` (when that share was used)."""
    def when(value: Any) -> Any:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    return {"threshold": data.get("percent"), "percent": data.get("percent"), "target": data.get("target"),
            "due_at": when(data.get("due_at")), "fire_at": when(data.get("fire_at")),
            "breach": data.get("percent") == 100}


def render_event(row: dict[str, Any]) -> tuple[str, str]:
    """(title, message) of one firing; raises ReminderTemplateError."""
    ctx = case_context(row)
    title = render(row["title_template"], ctx, TITLE_MAX_CHARS) or (row.get("rule_name") or i18n.gettext("Reminder"))
    message = render(row.get("message_template") or "", ctx, MESSAGE_MAX_CHARS)
    return title, message
