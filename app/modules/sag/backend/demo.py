"""The `bmc-hub demo` hook (the module loader looks for backend/demo.py): the demo calendar and
SLA policies, demo cases and their notes, the SLA demo cases, then reminder rules."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from app.modules.sag.cases import bulk
from app.modules.sag.cases import demo as cases_demo
from app.modules.sag.conversation import demo as notes_demo
from app.modules.sag.reminders import demo as reminders_demo
from app.modules.sag.sla import demo as sla_demo

log = logging.getLogger("app.modules.sag")


def run(progress, task, cases: int | None = None) -> None:
    """The demo calendar and SLA policies (sla/demo.py), the demo cases (cases/demo.py) and their
    notes (conversation/demo.py), one case per SLA state, generated cases up to `cases` in total
    when asked (cases/bulk.py), then the demo reminder rules on them (reminders/demo.py) beside the
    generated tables' ANALYZE."""
    sla_demo.run(progress, task)
    progress.update(task, total=cases_demo.DEMO_CASES, description="Cases")
    created = cases_demo.demo_cases(advance=lambda n=1: progress.advance(task, n))
    log.info("demo: %d cases created", created)
    log.info("demo: %d notes added", notes_demo.demo_notes())
    sla_demo.run_cases(progress, task)
    result = None
    if cases is not None:
        bulk_task = progress.add_task("Generated cases", total=None)
        result = bulk.fill_to(cases, advance=lambda n=1: progress.advance(bulk_task, n), analyzed=False)
        progress.update(bulk_task, completed=1, total=1)
    # The generated tables' ANALYZE runs beside the reminder rules: both are mostly one backend's
    # work each (the sla rule plans every open case in one statement), so the two cores share them.
    # The rules' planning does not wait for the statistics: the rebuilt indexes gave the planner
    # the tables' sizes, and their plans are no slower without the column statistics.
    with ThreadPoolExecutor(1) as pool:
        analyzing = pool.submit(bulk.analyze) if result else None
        # Its own progress line, so the cases line keeps showing what was done.
        reminder_task = progress.add_task("Reminders", total=None)
        reminders_demo.run(progress, reminder_task)
        done = next((t.total for t in progress.tasks if t.id == reminder_task), None) or 1
        progress.update(reminder_task, completed=done, total=done)
        if analyzing is not None:
            result.steps["analyze"] = analyzing.result()
    if cases is not None:
        progress.console.print(
            f"Generated cases: {result.cases} cases, {result.history} history rows, {result.notes} notes "
            f"in {result.seconds:.1f} s (ANALYZE {result.steps['analyze']} s beside the reminder rules)"
            if result else f"Generated cases: the hub holds {cases} cases already")
