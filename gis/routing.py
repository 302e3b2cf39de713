"""The patrol tour solver (巡查路线求解): the shortest order to visit every stop, pure, no database.

Input is a square matrix of travel costs (integers, e.g. decimetres) between the start, the stops
and the end; output is the order in which to visit the stops. Small tours are solved exactly
(Held–Karp dynamic programming, proven optimal); larger ones by OR-Tools routing with the matrix
registered once (``RegisterTransitMatrix``: no Python callback per arc), a cheapest-arc first
solution and guided local search, then — for symmetric costs, which walking and riding distances
are — polished by 2-opt/Or-opt iterated local search (:mod:`gis.tour_polish`) until the time
limit. Measured against brute force, long runs and pgr_TSPeuclidean in ``bench/routes.py``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from gis.tour_polish import polish

#: Up to this many stops the tour is solved exactly (Held–Karp: 2^n·n² steps, ~0.1 s at 12).
EXACT_MAX: Final = 12
#: Time limit of a large tour (the search always uses all of it): the latency of a big route.
TIME_LIMIT_S: Final = 1.0
#: Share of the time given to OR-Tools before the polish takes over (symmetric costs only).
OR_TOOLS_SHARE: Final = 0.15
Matrix = NDArray[np.int64]


@dataclass(frozen=True)
class Tour:
    """A solved tour (巡查顺序): stop nodes in visiting order, its cost, and how it was found."""

    order: tuple[int, ...]
    cost: int
    optimal: bool
    method: str
    seconds: float


def tour_cost(matrix: Matrix, start: int, order: tuple[int, ...] | list[int], end: int) -> int:
    """Cost of going ``start`` → ``order`` … → ``end`` (路线总长)."""
    path = [start, *order, end]
    return int(sum(int(matrix[a, b]) for a, b in itertools.pairwise(path)))


def solve_tour(
    matrix: Matrix,
    *,
    start: int = 0,
    end: int | None = None,
    time_limit_s: float = TIME_LIMIT_S,
    exact_max: int = EXACT_MAX,
) -> Tour:
    """The visiting order of every node but ``start``/``end`` (巡查顺序) minimising the total cost.

    ``end`` defaults to ``start`` (a closed tour back to where the patrol began). Costs must be
    non-negative integers; the matrix need not be symmetric. Exact up to ``exact_max`` stops,
    OR-Tools guided local search within ``time_limit_s`` above that.
    """
    clock = time.perf_counter()
    m = _square(matrix)
    end = start if end is None else end
    stops = [i for i in range(m.shape[0]) if i not in (start, end)]
    if len(stops) <= 2:
        order, method, optimal = _small(m, start, end, stops), "enumerated", True
    elif len(stops) <= exact_max:
        order, method, optimal = _held_karp(m, start, end, stops), "held-karp", True
    else:
        order, optimal = _large(m, start, end, _budget(len(stops), time_limit_s)), False
        method = "or-tools-gls+ils" if np.array_equal(m, m.T) else "or-tools-gls"
    return Tour(tuple(order), tour_cost(m, start, order, end), optimal, method, time.perf_counter() - clock)


def _square(matrix: Matrix) -> Matrix:
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"the cost matrix must be square and non-empty, got shape {m.shape}")
    if (m < 0).any():
        raise ValueError("costs must be non-negative")
    return m


def _small(m: Matrix, start: int, end: int, stops: list[int]) -> list[int]:
    """Zero, one or two stops: try both orders."""
    if len(stops) < 2:
        return stops
    a, b = stops
    return [a, b] if tour_cost(m, start, [a, b], end) <= tour_cost(m, start, [b, a], end) else [b, a]


def _held_karp(m: Matrix, start: int, end: int, stops: list[int]) -> list[int]:
    """Exact shortest Hamiltonian path start → all stops → end (Held–Karp), vectorised per subset."""
    n = len(stops)
    idx = np.array(stops)
    inner = m[np.ix_(idx, idx)].astype(np.int64)  # inner[i, j]: stop i → stop j
    big = np.iinfo(np.int64).max // 4
    best = np.full((1 << n, n), big, dtype=np.int64)
    back = np.full((1 << n, n), -1, dtype=np.int16)
    for j in range(n):
        best[1 << j, j] = m[start, stops[j]]
    bits = 1 << np.arange(n)
    for mask in range(1, 1 << n):
        members = np.nonzero(mask & bits)[0]
        if len(members) < 2:
            continue
        for j in members.tolist():
            prev = mask ^ (1 << j)
            costs = best[prev] + inner[:, j]
            i = int(np.argmin(costs))
            best[mask, j], back[mask, j] = costs[i], i
    full = (1 << n) - 1
    last = int(np.argmin(best[full] + m[idx, end]))
    order, mask = [], full
    while last >= 0:
        order.append(stops[last])
        last, mask = int(back[mask, last]), mask ^ (1 << last)
    return order[::-1]


def _budget(stops: int, time_limit_s: float) -> float:
    """Search time: the limit for 50 stops and more, less for smaller tours (≥ 0.2 s)."""
    return min(time_limit_s, max(0.2, stops / 50))


def _large(m: Matrix, start: int, end: int, seconds: float) -> list[int]:
    """OR-Tools first; with symmetric costs the polish improves its tour for the rest of the time."""
    if not np.array_equal(m, m.T):
        return _or_tools(m, start, end, seconds)
    began = time.perf_counter()
    order = _or_tools(m, start, end, seconds * OR_TOOLS_SHARE)
    if start == end:
        cycle = polish(m, [start, *order], locked=None, seconds=seconds - (time.perf_counter() - began))
        i = cycle.index(start)
        return cycle[i + 1 :] + cycle[:i]
    cycle = polish(m, [start, *order, end], locked=(end, start), seconds=seconds - (time.perf_counter() - began))
    i = cycle.index(start)
    path = cycle[i:] + cycle[:i]
    if path[-1] != end:  # the locked edge end–start was walked the other way round
        path = [path[0], *path[1:][::-1]]
    return [v for v in path if v not in (start, end)]


def _or_tools(m: Matrix, start: int, end: int, time_limit_s: float, *, guided: bool = True) -> list[int]:
    """OR-Tools routing: transit matrix, cheapest-arc start, guided local search to the limit.

    ``guided=False`` (benchmarks only): no metaheuristic, the search stops at its first local optimum.
    """
    manager = pywrapcp.RoutingIndexManager(m.shape[0], 1, [start], [end])
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(m.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    if guided:
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise RuntimeError("OR-Tools found no tour (the matrix must be finite and non-negative)")
    order: list[int] = []
    index = routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node not in (start, end):
            order.append(node)
        index = solution.Value(routing.NextVar(index))
    return order
