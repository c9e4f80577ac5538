"""The `bmc-hub demo` hook (the module loader looks for backend/demo.py): see cases/demo.py."""

from app.modules.sag.cases.demo import run

__all__ = ["run"]
