"""The field workload (现场负载) the crash and load checks drive: report, work and close cases, upload photos.

Each client signs in with the demo accounts and walks new cases through the real lifecycle API:
report (grid manager, with a photo) → register → assign (inspector) → start → resolve (contractor,
with a photo) → close (inspector, standing at the case, with a photo). Every answer is recorded: a
2xx write is *acknowledged* and must survive a crash; anything else is counted as an error.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

GRID = "640221202204001"  # demo-grid-manager's grid in 渠口乡 金桥村
CONTRACTOR_UNIT = "640221202-erquan"
ACCOUNTS = ("demo-grid-manager", "demo-inspector", "demo-contractor", "demo-admin")


@dataclass
class Answer:
    """One HTTP answer: status (0 when the connection failed), JSON body if any, seconds taken."""

    status: int
    body: Any
    seconds: float


@dataclass
class Ledger:
    """What the clients saw (账本): acknowledged writes, errors and latencies, shared by all threads."""

    cases: set[int] = field(default_factory=set)
    actions: list[tuple[int, str]] = field(default_factory=list)
    photos: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, answer: Answer) -> None:
        """Record a latency, and an error for anything that is not 2xx."""
        with self.lock:
            self.latencies.append((kind, answer.seconds))
            if not 200 <= answer.status < 300:
                self.errors.append(f"{kind}: {answer.status} {str(answer.body)[:200]}")


def call(base: str, method: str, path: str, token: str | None = None, *, body: Any = None,
         files: bytes | None = None, timeout: float = 30) -> Answer:  # fmt: skip
    """One request over a fresh connection; never raises for HTTP or connection errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if files is not None:
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n").encode() + files + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    elif body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    started = time.perf_counter()
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
    except (OSError, http.client.HTTPException) as error:  # refused, reset, or cut off mid-answer (a kill)
        return Answer(0, repr(error), time.perf_counter() - started)
    try:
        parsed: Any = json.loads(raw) if raw[:1] in (b"{", b"[") else None
    except ValueError:
        parsed = None
    return Answer(status, parsed, time.perf_counter() - started)


def sign_in(base: str, username: str, password: str = "demo") -> str:
    """A bearer token for an account."""
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    request = urllib.request.Request(f"{base}/auth/token", data=form, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.loads(response.read())["access_token"]
        return token


def sign_in_all(base: str) -> dict[str, str]:
    """Tokens for every demo account (signing in is slow on purpose: do it once, share the tokens)."""
    return {name: sign_in(base, name) for name in ACCOUNTS}


def photo_bytes(rng: random.Random) -> bytes:
    """A small, unique JPEG."""
    image = Image.new("RGB", (48, 36), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image.putpixel((rng.randrange(48), rng.randrange(36)), (rng.randrange(256), 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def tile_at(lon: float, lat: float, z: int = 12) -> tuple[int, int]:
    """The WebMercatorQuad column and row of the z-level tile holding a point."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return int((lon + 180) / 360 * n), int(y * n)


class FieldClient:
    """One phone: signs in as every demo role and works cases near ``spot`` until ``stop`` is set."""

    def __init__(self, base: str, ledger: Ledger, spot: tuple[float, float], seed: int, tokens: dict[str, str]) -> None:
        self.base, self.ledger, self.rng = base, ledger, random.Random(seed)
        self.spot, self.tokens = spot, tokens

    def _write(self, kind: str, method: str, path: str, who: str, **kw: Any) -> Answer:
        answer = call(self.base, method, path, self.tokens[who], **kw)
        self.ledger.note(kind, answer)
        return answer

    def upload(self, who: str) -> str | None:
        """Upload a photo; its id when acknowledged."""
        answer = self._write("photo", "POST", "/photos", who, files=photo_bytes(self.rng))
        if answer.status != 201:
            return None
        with self.ledger.lock:
            self.ledger.photos.add(answer.body["id"])
        return str(answer.body["id"])

    def one_case(self) -> bool:
        """Report one case and take it to closed; False as soon as a step is not acknowledged."""
        lon, lat = self.spot[0] + self.rng.uniform(-4e-4, 4e-4), self.spot[1] + self.rng.uniform(-3e-4, 3e-4)
        here = {"type": "Point", "coordinates": [lon, lat]}
        photo = self.upload("demo-grid-manager")
        if photo is None:
            return False
        body = {"category": "garbage_point", "geometry": here, "photo_ids": [photo]}
        answer = self._write("report", "POST", "/cases", "demo-grid-manager", body=body)
        if answer.status != 201:
            return False
        case_id, version = int(answer.body["id"]), int(answer.body["properties"]["version"])
        with self.ledger.lock:
            self.ledger.cases.add(case_id)
        for action, who, extra in self._steps(here):
            if extra.get("photo_ids") == []:
                shot = self.upload(who)
                if shot is None:
                    return False
                extra = {**extra, "photo_ids": [shot]}
            answer = self._write(action, "POST", f"/cases/{case_id}/{action}", who, body={"version": version, **extra})
            if answer.status != 200:
                return False
            version = int(answer.body["properties"]["version"])
            with self.ledger.lock:
                self.ledger.actions.append((case_id, action))
        return True

    @staticmethod
    def _steps(here: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            ("register", "demo-inspector", {}),
            ("assign", "demo-inspector", {"assignee": {"unit": CONTRACTOR_UNIT}}),
            ("start", "demo-contractor", {}),
            ("resolve", "demo-contractor", {"photo_ids": []}),
            ("close", "demo-inspector", {"position": here, "accuracy_m": 5, "photo_ids": []}),
        ]

    def read_some(self) -> None:
        """A few reads a dashboard or map makes: a page of cases, items in a bbox, a tile, one case."""
        lon, lat = self.spot
        bbox = f"{lon - 0.02},{lat - 0.02},{lon + 0.02},{lat + 0.02}"
        for kind, path in (
            ("read cases", f"/cases?limit=50&bbox={bbox}"),
            ("read items", f"/collections/garbage_point_points/items?bbox={bbox}&limit=100"),
            (
                "read tile",
                "/collections/garbage_point_points/tiles/WebMercatorQuad/12/{}/{}".format(*tile_at(lon, lat)),
            ),
            ("read grid", f"/areas/{GRID}"),
        ):
            self.ledger.note(kind, call(self.base, "GET", path, self.tokens["demo-admin"]))
