"""A size limit on JSON request bodies (请求体大小上限), checked before anything parses them.

A vertex bomb — a polygon of hundreds of thousands of points — would otherwise be read and parsed
in full (seconds of CPU) before the vertex limit refuses it. JSON bodies (``application/json``,
``application/geo+json`` and other ``+json`` types) larger than ``Settings.max_json_bytes`` get a
413 at once: from the ``Content-Length`` header when there is one; a body sent without one (chunked)
is read up to the limit first, then handed on whole. Uploads (multipart forms, files) keep their
own limits where they are read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return bool(kind == b"application/json" or kind.endswith(b"+json"))
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large(limit: int) -> bytes:
    """The 413 problem document's body, bilingual, with how to fix it."""
    mb = limit / (1024 * 1024)
    return bytes(
        problem(
            413,
            "Request body too large",
            f"请求体超过 {mb:.1f} MB 上限；请简化几何（减少顶点）或分批提交，大文件请用文件导入。",
            f"The request body is over the {mb:.1f} MB limit; simplify the geometry (fewer vertices) or send "
            "it in parts; use the file import for large files.",
            limit_bytes=limit,
        ).body
    )


class JsonBodyLimit:
    """ASGI middleware: 413 for a JSON body over ``limit`` bytes, before the app reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 when its JSON body is over the limit."""
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None:
            if declared > self.limit:
                await self._refuse(send)
            else:
                await self.app(scope, receive, send)
            return
        body = await self._read_within_limit(receive)  # chunked: read (at most the limit) first
        if body is None:
            await self._refuse(send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read_within_limit(self, receive: Receive) -> bytes | None:
        """The whole streamed body, or None as soon as it passes the limit."""
        parts: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(parts)
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _refuse(self, send: Send) -> None:
        body = too_large(self.limit)
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
