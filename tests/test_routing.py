"""The tour solver (巡查顺序求解), pure: exact against brute force, never worse after polishing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bench import routes as bench_routes
from gis.routing import EXACT_MAX, Matrix, solve_tour, tour_cost
from gis.tour_polish import _Cycle, _lk, _or_opt, _two_opt, polish


def euclidean(n: int, seed: int, *, asymmetric: bool = False) -> Matrix:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, size=(n, 2))
    m = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 10).astype(np.int64)
    if asymmetric:  # e.g. one-way detours: a → b costs more than b → a for some pairs
        m = m + np.triu(rng.integers(0, 3000, size=(n, n)), 1)
    matrix: Matrix = m
    return matrix


def brute(m: Matrix, start: int, end: int) -> int:
    stops = [i for i in range(m.shape[0]) if i not in (start, end)]
    return min(tour_cost(m, start, p, end) for p in itertools.permutations(stops))


@pytest.mark.parametrize(("n", "start", "end", "asym"), [
    (4, 0, 0, False), (6, 0, 0, False), (7, 2, 2, False), (8, 0, 0, False), (9, 0, 0, False),
    (6, 0, 5, False), (8, 3, 6, False), (9, 0, 8, False), (7, 0, 0, True), (8, 1, 4, True),
])  # fmt: skip
def test_exact_equals_brute_force(n: int, start: int, end: int, asym: bool) -> None:
    for seed in range(3):
        m = euclidean(n, seed, asymmetric=asym)
        tour = solve_tour(m, start=start, end=end)
        stops = sorted(i for i in range(n) if i not in (start, end))
        assert sorted(tour.order) == stops
        assert tour.optimal and tour.method in ("held-karp", "enumerated")
        assert tour.cost == tour_cost(m, start, tour.order, end) == brute(m, start, end)


def test_exact_up_to_twelve_stops_and_heuristic_above() -> None:
    m = euclidean(EXACT_MAX + 1, 7)
    exact = solve_tour(m)
    assert exact.optimal and exact.method == "held-karp" and len(exact.order) == EXACT_MAX
    # the heuristic on the same instance cannot beat the proven optimum
    heuristic = solve_tour(m, exact_max=0, time_limit_s=0.3)
    assert not heuristic.optimal and heuristic.cost >= exact.cost
    bigger = solve_tour(euclidean(EXACT_MAX + 2, 7), time_limit_s=0.3)
    assert not bigger.optimal and bigger.method == "or-tools-gls+ils"


def test_large_tour_is_a_permutation_and_beats_a_random_order() -> None:
    m = euclidean(61, 3)
    tour = solve_tour(m, time_limit_s=0.5)
    assert sorted(tour.order) == list(range(1, 61))
    random_order = list(np.random.default_rng(0).permutation(np.arange(1, 61)))
    assert tour.cost < 0.5 * tour_cost(m, 0, random_order, 0)


def test_open_path_large_keeps_its_ends() -> None:
    m = euclidean(40, 11)
    tour = solve_tour(m, start=5, end=17, time_limit_s=0.3)
    assert sorted(tour.order) == sorted(set(range(40)) - {5, 17})
    assert tour.cost == tour_cost(m, 5, tour.order, 17)


def test_asymmetric_large_uses_or_tools_only() -> None:
    m = euclidean(30, 2, asymmetric=True)
    tour = solve_tour(m, time_limit_s=0.2)
    assert tour.method == "or-tools-gls" and sorted(tour.order) == list(range(1, 30))


def test_polish_never_worse_and_keeps_the_locked_edge() -> None:
    m = euclidean(50, 4)
    start = list(np.random.default_rng(1).permutation(50))
    before = tour_cost(m, start[0], start[1:], start[0])
    out = polish(m, [int(v) for v in start], locked=None, seconds=0.2)
    assert sorted(out) == list(range(50))
    assert tour_cost(m, out[0], out[1:], out[0]) <= before
    locked = polish(m, [int(v) for v in start], locked=(int(start[-1]), int(start[0])), seconds=0.2)
    i = locked.index(int(start[0]))
    neighbours = {locked[i - 1], locked[(i + 1) % len(locked)]}
    assert int(start[-1]) in neighbours


def _neighbours(m: Matrix) -> list[list[int]]:
    masked = m + np.diag(np.full(m.shape[0], 10**12))
    near: list[list[int]] = np.argsort(masked, axis=1, kind="stable")[:, :10].tolist()
    return near


def test_lin_kernighan_chains_improve_a_two_opt_or_opt_optimum_and_keep_the_books() -> None:
    """From a tour neither 2-opt nor Or-opt can improve, the 2-opt chains still find gains; the
    tour stays a permutation with its locked edge, and the kept length equals the real one."""
    improved = 0
    for seed in range(8):
        m = euclidean(60, seed)
        near, locked = _neighbours(m), ((59, 0) if seed % 2 else None)
        cy = _Cycle(m.tolist(), list(range(60)), locked)
        while any(_two_opt(cy, a, near) or _or_opt(cy, a, near) for a in range(60)):
            pass
        for a in range(60):
            before = cy.length
            if _lk(cy, a, near):
                improved += 1
                assert cy.length < before
            assert cy.length == tour_cost(m, cy.tour[0], cy.tour[1:], cy.tour[0])
            assert sorted(cy.tour) == list(range(60))
            if locked is not None:
                i = cy.tour.index(0)
                assert 59 in (cy.tour[i - 1], cy.tour[(i + 1) % 60])
    assert improved > 0


def test_bad_matrices_refused() -> None:
    with pytest.raises(ValueError):
        solve_tour(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError):
        solve_tour(np.array([[0, -1], [1, 0]]))


def test_bench_smoke_runs_and_measures_every_method() -> None:
    table = bench_routes.main(["--smoke", "--no-pgrouting"])
    methods = {row["method"] for row in table}
    assert "brute force" in methods and any(m.startswith("villagemap") for m in methods)
    assert "or-tools no metaheuristic" in methods
    cp_sat = [row for row in table if row["method"].startswith("cp-sat")]
    assert {row["n"] for row in cp_sat} == {6, 14} and all(row["optimal"] for row in cp_sat)
    exact = [row for row in table if row["n"] == 6]
    assert all(row["gap_pct"].startswith("0.00") for row in exact)
