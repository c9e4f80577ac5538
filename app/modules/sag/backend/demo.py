"""The `bmc-hub demo` hook (the module loader looks for backend/demo.py): the demo calendar
(sla/demo.py), then the demo cases and reminders (cases/demo.py)."""

from app.modules.sag.cases import demo as cases_demo
from app.modules.sag.sla import demo as sla_demo


def run(progress, task) -> None:
    sla_demo.run(progress, task)
    cases_demo.run(progress, task)
