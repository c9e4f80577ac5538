"""Keeping the translation catalogs: extract the marked texts, update, compile, check.

One catalog per package: the core (`app/core/locale/`, texts of `app/core`, `app/main.py`
and `app/cli.py`) and each module (`<module>/locale/`, the module's own texts, including the
navigation labels and notification kinds of its `module.json`). Run by `make i18n`
(`bmc-hub i18n`); the tests run `check` so a text added without a translation fails.

Marked texts: `_()`, `gettext`, `ngettext`, `pgettext`, `lazy_gettext` in Python; the
messages of the hub's errors (`NotFound("...")` ...), which pages show translated; `{% trans %}`
and `_()` in templates; `hub.t("...")` / `t("...")` in the browser scripts.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_file
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

APP_DIR = Path(__file__).resolve().parent.parent
CORE_DIR = APP_DIR / "core"
TRANSLATED = ("da",)  # English is the source language: no catalog needed
PROJECT = "BMC Hub"
HEADER = "Translations of BMC Hub ({name})."

# The hub's error types: their first argument is shown (translated) on pages.
ERROR_KEYWORDS = ("HubError", "NotFound", "Forbidden", "Conflict", "ValidationFailed", "BadRequest",
                  "NotAuthenticated", "TooManyRequests", "PreconditionRequired", "PreconditionFailed",
                  "NotWritten", "BulkRefused", "BadToken",
                  "Unavailable", "Gone", "PayloadTooLarge")
KEYWORDS = {
    "_": None, "gettext": None, "lazy_gettext": None, "_l": None, "N_": None,
    "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
    **{name: None for name in ERROR_KEYWORDS},
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "silent": "false"}
METHODS = [
    ("**/tests/**", "ignore"),
    ("**/_template/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]


@dataclass(frozen=True)
class Package:
    name: str
    source: Path  # what is scanned
    locale: Path  # where its catalogs live

    def po(self, language: str) -> Path:
        return self.locale / language / "LC_MESSAGES" / "messages.po"

    def mo(self, language: str) -> Path:
        return self.locale / language / "LC_MESSAGES" / "messages.mo"


def packages(modules_dir: Path | None = None) -> list[Package]:
    """The core and every module folder that has a module.json (the template included)."""
    found = [Package("core", APP_DIR, CORE_DIR / "locale")]
    for folder in sorted((modules_dir or APP_DIR / "modules").iterdir()):
        if (folder / "module.json").is_file():
            found.append(Package(folder.name, folder, folder / "locale"))
    return found


def _module_json_texts(folder: Path) -> Iterator[tuple[str, int, str]]:
    manifest = json.loads((folder / "module.json").read_text(encoding="utf-8"))
    for item in manifest.get("navigation") or []:
        if isinstance(item, dict) and item.get("label"):
            yield "module.json", 0, item["label"]
    for kind in manifest.get("notification_kinds") or []:
        if isinstance(kind, dict) and kind.get("label"):
            yield "module.json", 0, kind["label"]


def extract(package: Package) -> Catalog:
    """Every text the package marks for translation, with where it is used."""
    catalog = Catalog(project=PROJECT, charset="utf-8", header_comment="# " + HEADER.format(name=package.name))
    method_map = list(METHODS)
    if package.name == "core":
        # The core's catalog: app/core and the entry points, never the modules.
        method_map = [("modules/**", "ignore"), *method_map]
    elif package.name == "_template":
        method_map = [m for m in method_map if m[0] != "**/_template/**"]
    options = {"**/templates/**.html": JINJA_OPTIONS, "**/templates/**.txt": JINJA_OPTIONS}
    js_keywords = {"t": None}
    for filename, lineno, message, comments, context in extract_from_dir(
            package.source, method_map, options, KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    # The scripts' marker is t("...") only; extract_from_dir cannot take keywords per method.
    for path in sorted(package.source.rglob("static/*.js")):
        if "tests" in path.parts or (package.name == "core" and "modules" in path.relative_to(package.source).parts):
            continue
        with path.open("rb") as fileobj:
            for lineno, message, _comments, context in extract_file("javascript", fileobj, js_keywords):
                catalog.add(message, locations=[(str(path.relative_to(package.source)), lineno)], context=context)
    if package.name != "core":
        for filename, lineno, message in _module_json_texts(package.source):
            catalog.add(message, locations=[(filename, lineno)])
    return catalog


def _read(path: Path, language: str) -> Catalog:
    if path.is_file():
        with path.open("rb") as fh:
            return read_po(fh, locale=language)
    return Catalog(locale=language, project=PROJECT, charset="utf-8")


def update(package: Package) -> dict[str, int]:
    """Bring the package's catalogs up to date with its code and compile them."""
    template = extract(package)
    counts = {}
    for language in TRANSLATED:
        catalog = _read(package.po(language), language)
        catalog.header_comment = "# " + HEADER.format(name=package.name)
        catalog.fuzzy = False
        catalog.project, catalog.version = PROJECT, "1"
        catalog.msgid_bugs_address = catalog.last_translator = catalog.language_team = ""
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.revision_date = catalog.creation_date = datetime(2026, 1, 1)
        package.po(language).parent.mkdir(parents=True, exist_ok=True)
        with package.po(language).open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False, include_lineno=False)
        compile_catalog(package, language, catalog)
        counts[language] = sum(1 for m in catalog if m.id)
    return counts


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_catalog(package: Package, language: str, catalog: Catalog | None = None) -> None:
    catalog = catalog or _read(package.po(language), language)
    package.mo(language).write_bytes(compiled(catalog))


def problems(package: Package) -> list[str]:
    """What is wrong with the package's catalogs: texts missing from them, untranslated or
    fuzzy entries, a compiled catalog that does not match its source."""
    template = extract(package)
    found: list[str] = []
    for language in TRANSLATED:
        if not template._messages and not package.po(language).is_file():
            continue
        po = package.po(language)
        if not po.is_file():
            found.append(f"{package.name}: {po.relative_to(APP_DIR.parent)} is missing (run make i18n)")
            continue
        catalog = _read(po, language)
        where = f"{package.name} ({language})"
        for message in template:
            if message.id and catalog.get(message.id, message.context) is None:
                found.append(f"{where}: not in the catalog (run make i18n): {message.id!r}")
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                found.append(f"{where}: fuzzy, check and remove the flag: {message.id!r}")
            elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
                found.append(f"{where}: not translated: {message.id!r}")
        if not package.mo(language).is_file() or package.mo(language).read_bytes() != compiled(catalog):
            found.append(f"{where}: the compiled catalog is stale (run make i18n)")
    return found
