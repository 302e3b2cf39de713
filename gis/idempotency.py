"""Idempotent POSTs (幂等请求): a retried request with the same ``Idempotency-Key`` gets the same answer.

Field phones retry on bad networks; the key makes a retry replay the first response instead of
creating a second case or close-out. The key row is written in the request's own transaction, so a
refused request leaves nothing behind and a concurrent duplicate waits for the first to finish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis.errors import Conflict, InvalidParameter

KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

CLAIM = text("""
INSERT INTO idempotency_key (client_key, key, method, path, request_hash)
VALUES (:client, :key, :method, :path, :hash)
ON CONFLICT (client_key, key) DO NOTHING
RETURNING 1
""")
STORED = text("""
SELECT method, path, request_hash, status, body, media_type FROM idempotency_key
WHERE client_key = :client AND key = :key
""")
REMEMBER = text("""
UPDATE idempotency_key SET status = :status, body = :body, media_type = :media_type
WHERE client_key = :client AND key = :key
""")


@dataclass(frozen=True)
class Replay:
    """The stored answer to a request made before with the same key."""

    status: int
    body: str
    media_type: str


def claim(conn: Connection, client: str, key: str, method: str, path: str, request_hash: str) -> Replay | None:
    """Reserve ``key`` for this request, or return the answer stored for the same request."""
    if not KEY.match(key):
        raise InvalidParameter(
            "Idempotency-Key",
            "Idempotency-Key 须为 1–128 个可见 ASCII 字符。",
            "Idempotency-Key must be 1–128 visible ASCII characters.",
        )
    params = {"client": client, "key": key, "method": method, "path": path, "hash": request_hash}
    if conn.execute(CLAIM, params).one_or_none() is not None:
        return None
    row = conn.execute(STORED, {"client": client, "key": key}).one()
    if (row.method, row.path, row.request_hash) != (method, path, request_hash) or row.status is None:
        raise Conflict(
            "该 Idempotency-Key 已用于另一个请求，请为新请求生成新的键。",
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
        )
    return Replay(int(row.status), str(row.body), str(row.media_type))


def remember(conn: Connection, client: str, key: str, status: int, body: str, media_type: str) -> None:
    """Store the answer so a retry gets it again."""
    conn.execute(REMEMBER, {"client": client, "key": key, "status": status, "body": body, "media_type": media_type})
