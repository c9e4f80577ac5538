"""Languages: which one the running code speaks, and its translated texts.

The hub speaks Danish (`da`) and English (`en`). The language of a request is the signed-in
user's (`users.language`), else the hub's `LANGUAGE` setting; a page seen before signing in
follows the browser's `Accept-Language`. The worker switches to each recipient's language
while it builds that recipient's e-mail or toast (`use_language`).

Texts are written in English in the code and looked up in Babel catalogs: the core's in
`app/core/locale/`, and every enabled module's own in `<module>/locale/` (domain
`messages`), so a module ships its translations with its code. English needs no catalog.
`make i18n` extracts the marked texts and updates the catalogs (docs/development.md).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from babel.support import LazyProxy, NullTranslations, Translations
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import host_context
from app.core.config import get_settings

LANGUAGES: dict[str, str] = {"da": "Dansk", "en": "English"}
# Babel locales used for formatting: English as written in Europe (24-hour clock, day first).
LOCALES: dict[str, str] = {"da": "da_DK", "en": "en_GB"}
CORE_LOCALE_DIR = Path(__file__).parent / "locale"
CORE_STATIC_DIR = Path(__file__).parent / "static"
DOMAIN = "messages"

_language: ContextVar[str | None] = ContextVar("bmc_language", default=None)


def default_language() -> str:
    return get_settings().language


def get_language() -> str:
    """The language the running code speaks ('da' or 'en')."""
    return _language.get() or default_language()


def set_language(language: str | None) -> None:
    """Speak `language` for the rest of this request or task (None: the hub's default)."""
    _language.set(language if language in LANGUAGES else None)


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Speak `language` inside the block (a recipient's e-mail), restored afterwards."""
    token = _language.set(language if language in LANGUAGES else None)
    try:
        yield get_language()
    finally:
        _language.reset(token)


def locale_name(language: str | None = None) -> str:
    """The Babel locale for formatting dates and numbers in `language` (default: the current)."""
    return LOCALES[language if language in LOCALES else get_language()]


def negotiate(accept_language: str | None) -> str | None:
    """The supported language the browser prefers most (Accept-Language), or None."""
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, code)
    return best[1] if best else None


# --- catalogs ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _load(folder: str, language: str) -> NullTranslations:
    # Cached per folder: the compiled catalogs ship with the code and change only with it.
    return Translations.load(folder, [language], DOMAIN)


@functools.lru_cache(maxsize=32)
def _merged(language: str, folders: tuple[str, ...]) -> NullTranslations:
    core = _load(folders[-1], language)
    if not isinstance(core, Translations):
        return core
    merged = copy.copy(core)
    merged._catalog = {}  # type: ignore[attr-defined]
    # Modules first, the core last: a module cannot change the core's own texts.
    for folder in folders:
        catalog = _load(folder, language)
        if isinstance(catalog, Translations):
            merged._catalog.update(catalog._catalog)  # type: ignore[attr-defined]
    return merged


def locale_folders() -> tuple[str, ...]:
    """The catalogs in use: each enabled module's (if it has one), then the core's."""
    return _folders(_module_dirs())


def _module_dirs() -> tuple[Path, ...]:
    host = host_context.active_host()
    if host is None:
        return ()
    return tuple(rec.templates_dir.parent for rec in host.enabled() if rec.templates_dir is not None)


@functools.lru_cache(maxsize=64)
def _folders(module_dirs: tuple[Path, ...]) -> tuple[str, ...]:
    # Cached: asked for every text of every page; a module's folder does not grow a catalog
    # while the process runs.
    found = [str(d / "locale") for d in module_dirs if (d / "locale").is_dir()]
    return (*found, str(CORE_LOCALE_DIR))


def translations(language: str | None = None) -> NullTranslations:
    language = language or get_language()
    if language == "en":
        return _ENGLISH
    return _merged(language, locale_folders())


_ENGLISH = NullTranslations()


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language; `%(name)s` placeholders filled from `variables`."""
    text = translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural form for `n` in the current language (`%(num)s` is `n`)."""
    text = translations().ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def pgettext(context: str, message: str, **variables: object) -> str:
    """`message` in the current language, told apart by `context` ("status", "verb" ...)."""
    text = translations().pgettext(context, message)
    return text % variables if variables else text


def lookup(text: str) -> str:
    """A text made elsewhere (a validator's message, an error's) in the current language when a
    catalog has it; unchanged otherwise. Not a marker: the text must be marked where it is written."""
    return translations().gettext(text)


def error_text(exc: Exception) -> str:
    """A hub error's message in the current language (English when the catalog lacks it)."""
    template = getattr(exc, "template", None) or str(exc)
    params = getattr(exc, "params", None)
    text = lookup(template)
    return text % params if params else text


def lazy_gettext(message: str) -> LazyProxy:
    """A text translated when it is shown, for constants defined at import time."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


# --- texts of the browser scripts -------------------------------------------------------------

# A script marks a text as `hub.t("Snooze 1 h")`; the page carries the current language's
# translations of every such text (`js_messages`), and `hub.t` looks them up.
JS_TEXT = re.compile(r"""\bt\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')""")


@functools.lru_cache(maxsize=64)
def _script_texts(folder: str) -> tuple[str, ...]:
    texts: set[str] = set()
    for path in sorted(Path(folder).glob("*.js")):
        for double, single in JS_TEXT.findall(path.read_text(encoding="utf-8")):
            texts.add(json.loads('"' + (double or single.replace('"', '\\"')) + '"'))
    return tuple(sorted(texts))


def script_folders() -> tuple[str, ...]:
    host = host_context.active_host()
    folders = [str(CORE_STATIC_DIR)]
    if host is not None:
        folders += [str(rec.static_dir) for rec in host.enabled() if rec.static_dir is not None]
    return tuple(folders)


def js_messages() -> dict[str, str]:
    """The current language's translation of every text the browser scripts mark with `hub.t`."""
    if get_language() == "en":
        return {}
    catalog = translations()
    return {text: catalog.gettext(text) for folder in script_folders() for text in _script_texts(folder)}


class LanguageMiddleware:
    """ASGI middleware: each request starts in the browser's language, else the hub's default.

    Signing in replaces it with the user's language (`app.core.deps.get_current_user`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        accept = None
        for name, value in scope.get("headers") or ():
            if name == b"accept-language":
                accept = value.decode("latin-1")
                break
        token = _language.set(negotiate(accept))
        try:
            await self.app(scope, receive, send)
        finally:
            _language.reset(token)
