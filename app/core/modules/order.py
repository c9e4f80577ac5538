"""The order modules load in (dependencies first), and the structural problems between them."""

from __future__ import annotations

import graphlib
import heapq

from app.core.modules import manifest as mf


def dependency_order(manifests: dict[str, mf.Manifest]) -> tuple[list[str], dict[str, str]]:
    """Every name, dependencies first (alphabetical among the modules ready at the same time),
    and the cycle message of each module in a dependency cycle ("dependency cycle: a -> b -> a",
    read "a requires b, which requires a"). A cycle's members are still ordered, among
    themselves alphabetically, so the modules that depend on them learn why they are out."""
    graph = {n: {d.name for d in m.dependencies if d.name in manifests} for n, m in manifests.items()}
    cycles: dict[str, str] = {}
    while True:
        try:
            return _alphabetical_topological(graph), cycles
        except graphlib.CycleError as exc:
            # graphlib lists the loop dependency-first; the message reads dependent-first,
            # starting at its alphabetically first member.
            loop = list(reversed(exc.args[1][:-1]))
            start = loop.index(min(loop))
            loop = loop[start:] + loop[:start]
            message = "dependency cycle: " + " -> ".join(loop + loop[:1])
            for member in loop:
                cycles.setdefault(member, message)
                graph[member] -= set(loop)


def _alphabetical_topological(graph: dict[str, set[str]]) -> list[str]:
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    ready: list[str] = []
    order: list[str] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, name)
        name = heapq.heappop(ready)
        order.append(name)
        sorter.done(name)
    return order


def prefix_problems(manifests: dict[str, mf.Manifest]) -> dict[str, str]:
    """A table_prefix inside another module's prefix would let one module claim the other's tables."""
    problems: dict[str, str] = {}
    valid = sorted((m for m in manifests.values() if m.valid), key=lambda m: (len(m.table_prefix), m.name))
    for i, a in enumerate(valid):
        for b in valid[i + 1:]:
            if b.table_prefix.startswith(a.table_prefix):
                problems.setdefault(b.name, f"table_prefix \"{b.table_prefix}\" overlaps \"{a.table_prefix}\" "
                                            f"of module {a.name}; choose a prefix no other module's starts with")
    return problems
