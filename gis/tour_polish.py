"""Tour polishing (路线精修): 2-opt, Or-opt and Lin–Kernighan-style chains with kicks, after OR-Tools.

OR-Tools' guided local search is general (vehicles, capacities, time windows); on a plain tour it
stalls 1–4 % above the best known within a second (bench/README.md). This iterated local search
is specific to one symmetric tour: neighbour lists, a work queue of nodes to look at (don't-look
bits), 2-opt and Or-opt moves (from either end of the moved segment), chains of up to three 2-opt
moves from one node (the sequential 3-opt moves of Lin–Kernighan), and random double-bridge kicks
on a stretch of the tour. A kicked tour is kept when it is no longer than the current one or
within ``SLACK`` of the best so far; the best is returned. Pure Python lists for speed of scalar
access; no database.

The tour is a cycle of node indices; a fixed start and end are joined by a locked edge so that
the path start → … → end is what is optimised.
"""

from __future__ import annotations

import itertools
import random
import time

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.int64]
NEIGHBOURS = 10
#: The search may wander to tours up to this share longer than the best (escapes local optima).
SLACK = 0.01
#: Longest chain of 2-opt moves one Lin–Kernighan step tries.
LK_DEPTH = 3
#: A kick reorders a stretch of this many consecutive nodes (range).
KICK_SPAN = (10, 120)


class _Cycle:
    """A tour as a list with positions and its length, kept up to date by every move."""

    def __init__(self, cost: list[list[int]], order: list[int], locked: tuple[int, int] | None) -> None:
        self.cost = cost
        self.n = len(order)
        self.tour = list(order)
        self.pos = [0] * self.n
        for i, v in enumerate(self.tour):
            self.pos[v] = i
        self.locked = locked
        self.length = sum(cost[a][b] for a, b in zip(self.tour, self.tour[1:] + self.tour[:1], strict=True))

    def succ(self, node: int) -> int:
        i = self.pos[node] + 1
        return self.tour[i if i < self.n else 0]

    def pred(self, node: int) -> int:
        return self.tour[self.pos[node] - 1]

    def is_locked(self, a: int, b: int) -> bool:
        lock = self.locked
        return lock is not None and ((a, b) == lock or (b, a) == lock)

    def reverse(self, first: int, last: int) -> None:
        """Reverse the path first … last (following successors), the shorter way round."""
        n, tour, pos = self.n, self.tour, self.pos
        i, j = pos[first], pos[last]
        inner = (j - i) % n + 1
        if inner * 2 > n:  # the complement is shorter: reversing it gives the same cycle
            i, j, inner = (j + 1) % n, (i - 1) % n, n - inner
        for _ in range(inner // 2):
            a, b = tour[i], tour[j]
            tour[i], tour[j] = b, a
            pos[b], pos[a] = i, j
            i = i + 1 if i + 1 < n else 0
            j = j - 1 if j > 0 else n - 1

    def move(self, seg: list[int], after: int, *, reverse: bool) -> None:
        """Cut ``seg`` out and put it right after ``after`` (reversed if asked)."""
        inside = set(seg)
        rest = [v for v in self.tour if v not in inside]
        at = rest.index(after) + 1
        self.tour = rest[:at] + (seg[::-1] if reverse else seg) + rest[at:]
        for i, v in enumerate(self.tour):
            self.pos[v] = i


def _two_opt(cy: _Cycle, a: int, near: list[list[int]]) -> bool:
    """First improving 2-opt move at ``a`` (both tour directions), applied; True if one was."""
    c, tour, pos, n, lock = cy.cost, cy.tour, cy.pos, cy.n, cy.locked
    ca, i = c[a], pos[a]
    for step in (1, -1):
        b = tour[(i + step) % n]
        if lock is not None and cy.is_locked(a, b):
            continue
        ab, cb = ca[b], c[b]
        for x in near[a]:
            ax = ca[x]
            if ax >= ab:
                break
            y = tour[(pos[x] + step) % n]
            if x == b or y == a or (lock is not None and cy.is_locked(x, y)):
                continue
            delta = ax + cb[y] - ab - c[x][y]
            if delta < 0:
                cy.reverse(b, x) if step == 1 else cy.reverse(x, b)
                cy.length += delta
                return True
    return False


def _segment(cy: _Cycle, a: int, size: int) -> list[int] | None:
    """The ``size`` nodes from ``a`` on, with no locked edge inside or at their ends."""
    n, tour, i = cy.n, cy.tour, cy.pos[a]
    if size + 2 > n:
        return None
    seg = [tour[(i + k) % n] for k in range(size)]
    if cy.locked is None:
        return seg
    ring = [cy.pred(a), *seg, cy.succ(seg[-1])]
    return None if any(cy.is_locked(u, v) for u, v in itertools.pairwise(ring)) else seg


def _or_opt(cy: _Cycle, a: int, near: list[list[int]]) -> bool:
    """Move the 1–3 nodes from ``a`` on next to a near node of ``a``, either way round."""
    c, tour, pos, n, lock = cy.cost, cy.tour, cy.pos, cy.n, cy.locked
    ca, p = c[a], tour[pos[a] - 1]
    for size in (1, 2, 3):
        seg = _segment(cy, a, size)
        if seg is None:
            return False
        last = seg[-1]
        s = tour[(pos[last] + 1) % n]
        gain = c[p][a] + c[last][s] - c[p][s]
        cl = c[last]
        for x in near[a]:
            ax = ca[x]
            if ax >= gain:
                break
            if x in seg:
                continue
            j = pos[x]
            y, w = tour[(j + 1) % n], tour[j - 1]  # a next to x: x a … last y, or w last … a x
            cx = c[x]
            if y not in seg and (lock is None or not cy.is_locked(x, y)) and ax + cl[y] - cx[y] < gain:
                cy.length += ax + cl[y] - cx[y] - gain
                cy.move(seg, x, reverse=False)
                return True
            if w not in seg and (lock is None or not cy.is_locked(w, x)) and ax + c[w][last] - c[w][x] < gain:
                cy.length += ax + c[w][last] - c[w][x] - gain
                cy.move(seg, w, reverse=True)
                return True
        if size > 1 and _or_opt_tail(cy, seg, gain, near):
            return True
    return False


def _or_opt_tail(cy: _Cycle, seg: list[int], gain: int, near: list[list[int]]) -> bool:
    """The same move seen from the segment's other end: ``last`` next to one of its near nodes."""
    c, tour, pos, n, lock = cy.cost, cy.tour, cy.pos, cy.n, cy.locked
    a, last = seg[0], seg[-1]
    cl = c[last]
    for x in near[last]:
        lx = cl[x]
        if lx >= gain:
            break
        if x in seg:
            continue
        j = pos[x]
        y, w = tour[(j + 1) % n], tour[j - 1]  # x last … a y (reversed), or w a … last x (as it is)
        cx = c[x]
        if y not in seg and (lock is None or not cy.is_locked(x, y)) and lx + c[a][y] - cx[y] < gain:
            cy.length += lx + c[a][y] - cx[y] - gain
            cy.move(seg, x, reverse=True)
            return True
        if w not in seg and (lock is None or not cy.is_locked(w, x)) and lx + c[w][a] - c[w][x] < gain:
            cy.length += lx + c[w][a] - c[w][x] - gain
            cy.move(seg, w, reverse=False)
            return True
    return False


def _lk(cy: _Cycle, t1: int, near: list[list[int]]) -> bool:
    """A chain of up to ``LK_DEPTH`` 2-opt moves from ``t1`` (Lin–Kernighan style), applied if it gains.

    Each step breaks the edge t1–t2, adds t2–t3 (t3 near t2) and breaks t3–t4, keeping the tour
    whole; the chain goes on from the new edge t1–t4 while the partial gain stays positive. The
    tour is restored when no step closes with a gain.
    """
    c, lock = cy.cost, cy.locked
    for first in (cy.succ(t1), cy.pred(t1)):
        if lock is not None and cy.is_locked(t1, first):
            continue
        saved = (list(cy.tour), list(cy.pos), cy.length)
        t2, gain = first, c[t1][first]
        for _ in range(LK_DEPTH):
            forward = cy.succ(t1) == t2
            step = _lk_step(cy, t1, t2, gain, near[t2], forward)
            if step is None:
                break
            t3, t4, closed = step
            gain += c[t3][t4] - c[t2][t3]
            cy.length += c[t2][t3] + c[t4][t1] - c[t1][t2] - c[t3][t4]
            cy.reverse(t2, t4) if forward else cy.reverse(t4, t2)
            if closed:
                return True
            t2 = t4
        cy.tour, cy.pos, cy.length = saved
    return False


def _lk_step(cy: _Cycle, t1: int, t2: int, gain: int, near: list[int], forward: bool) -> tuple[int, int, bool] | None:
    """The next step of a chain: a closing one that gains, else the most promising open one."""
    c, lock = cy.cost, cy.locked
    best: tuple[int, int, bool] | None = None
    best_score = 0
    for t3 in near:
        g1 = gain - c[t2][t3]
        if g1 <= 0:
            break
        t4 = cy.pred(t3) if forward else cy.succ(t3)
        if t3 == t1 or t4 == t2 or (lock is not None and cy.is_locked(t3, t4)):
            continue
        score = g1 + c[t3][t4]
        if score - c[t4][t1] > 0:
            return t3, t4, True
        if score > best_score:
            best, best_score = (t3, t4, False), score
    return best


def _descend(cy: _Cycle, near: list[list[int]], queue: list[int], deadline: float) -> None:
    """Local search to a local optimum, looking again at the nodes next to every change."""
    waiting = set(queue)
    while queue and time.perf_counter() < deadline:
        a = queue.pop()
        waiting.discard(a)
        if _two_opt(cy, a, near) or _or_opt(cy, a, near) or _lk(cy, a, near):
            for v in (cy.pred(a), cy.succ(a), a):
                if v not in waiting:
                    waiting.add(v)
                    queue.append(v)


def _kick(cy: _Cycle, rng: random.Random) -> list[int]:
    """A double bridge inside a short stretch of the tour (A B C D → A C B D)."""
    n = cy.n
    span = min(n - 1, rng.randint(*KICK_SPAN))
    start = rng.randrange(n)
    part = [cy.tour[(start + k) % n] for k in range(span + 1)]
    if cy.locked is not None and any(cy.is_locked(u, v) for u, v in itertools.pairwise(part)):
        return []
    i, j, k = sorted(rng.sample(range(1, span), 3))
    a, b, cc, d = part[:i], part[i:j], part[j:k], part[k:]
    c = cy.cost
    before = c[a[-1]][b[0]] + c[b[-1]][cc[0]] + c[cc[-1]][d[0]]
    after = c[a[-1]][cc[0]] + c[cc[-1]][b[0]] + c[b[-1]][d[0]]
    for offset, v in enumerate(a + cc + b + d):
        idx = (start + offset) % n
        cy.tour[idx] = v
        cy.pos[v] = idx
    cy.length += after - before
    return [a[-1], b[0], b[-1], cc[0], cc[-1], d[0]]


def polish(
    matrix: Matrix, order: list[int], *, locked: tuple[int, int] | None, seconds: float, seed: int = 0
) -> list[int]:
    """Improve the cyclic tour ``order`` (all nodes) within ``seconds``; never returns a worse one.

    ``locked`` is an edge that must stay in the tour (end → start of an open patrol path). The
    matrix must be symmetric.
    """
    deadline = time.perf_counter() + seconds
    n = len(order)
    if n < 5:
        return list(order)
    masked = matrix + np.diag(np.full(n, np.iinfo(np.int64).max // 4))
    near = np.argsort(masked, axis=1, kind="stable")[:, : min(NEIGHBOURS, n - 1)].tolist()
    cy = _Cycle(matrix.tolist(), order, locked)
    _descend(cy, near, list(range(n)), deadline)
    best, best_len = list(cy.tour), cy.length
    rng = random.Random(seed)
    current, current_len = list(cy.tour), cy.length
    while time.perf_counter() < deadline:
        _descend(cy, near, _kick(cy, rng), deadline)
        if cy.length < best_len:
            best, best_len = list(cy.tour), cy.length
        if cy.length <= current_len or cy.length <= best_len * (1 + SLACK):
            current, current_len = list(cy.tour), cy.length
        else:
            cy = _restore(cy, current, current_len)
    return best


def _restore(cy: _Cycle, tour: list[int], length: int) -> _Cycle:
    cy.tour = list(tour)
    for i, v in enumerate(cy.tour):
        cy.pos[v] = i
    cy.length = length
    return cy
