#!/usr/bin/env python3
"""Create a BMC Hub module from the template.

    python scripts/create_module.py webshop "My Module Description"

Creates app/modules/webshop/ (module.json, README.md, backend/router.py, frontend/views.py,
templates/index.html, migrations/001_init.sql with the customer auto-link, tests/).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Runnable from a checkout without installing: make `app` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.errors import HubError  # noqa: E402
from app.core.modules.scaffold import create_module  # noqa: E402

USAGE = 'usage: python scripts/create_module.py NAME "Description"'


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    name, description = argv
    try:
        folder = create_module(name, description)
    except HubError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"Created module {name} in {folder}")
    print("Next: restart the hub (or run `bmc-hub migrate`), then open /" + name)
    print(f"Tests: python -m pytest {folder}/tests -q")
    print(f"Danish: translate {folder}/locale/da/LC_MESSAGES/messages.po, then run `make i18n`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
