"""A simple human check (人机验证) for anonymous reports from the field pages.

A small sum (e.g. 7 + 5) is asked in the page; the answer comes back with a signed token
``<expires>.<nonce>.<mac>``, where the mac is an HMAC-SHA256 (keyed with the JWT secret) over the
expiry, the nonce and the right answer. The server keeps nothing: it recomputes the mac with the
answer given. It slows scripts down, nothing more — the hourly quota of anonymous reports is
the limit that holds. A token lives ``LIFETIME_S`` so that a report written offline can still be
sent within a morning's round; within that time one solved token may be reused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from dataclasses import dataclass

from gis.errors import InvalidField

LIFETIME_S = 4 * 3600
_DIGITS_ZH = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Challenge:
    """A question (中文 and English) and the token that comes back with the answer."""

    question_zh: str
    question_en: str
    token: str
    expires_at: int


def _mac(secret: str, expires: int, nonce: str, answer: str) -> str:
    message = f"human-check|{expires}|{nonce}|{answer}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_challenge(secret: str, now: float | None = None) -> Challenge:
    """A fresh sum of two numbers from 1 to 9, signed with ``secret``."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    expires = int(now if now is not None else time.time()) + LIFETIME_S
    nonce = secrets.token_hex(8)
    token = f"{expires}.{nonce}.{_mac(secret, expires, nonce, str(a + b))}"
    return Challenge(f"{_DIGITS_ZH[a]}加{_DIGITS_ZH[b]}等于几？", f"{a} + {b} = ?", token, expires)


def normalise_answer(answer: str) -> str:
    """Full-width digits (１２, from a Chinese keyboard) as ASCII, spaces dropped."""
    return unicodedata.normalize("NFKC", answer).strip().replace(" ", "")


def _refuse(zh: str, en: str, reason: str) -> InvalidField:
    return InvalidField("human_check", zh, en, reason=reason)


def verify(secret: str, token: str, answer: str, now: float | None = None) -> None:
    """Accept a right answer to an unexpired question signed with ``secret``; else 422."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise _refuse("验证信息无效，请重新答题。", "The human check is malformed; answer a new question.", "malformed")
    expires, nonce, mac = int(parts[0]), parts[1], parts[2]
    if expires < int(now if now is not None else time.time()):
        raise _refuse(
            "验证已过期，请重新答题后再提交。", "The human check has expired; answer a new question.", "expired"
        )
    if not hmac.compare_digest(mac, _mac(secret, expires, nonce, normalise_answer(answer))):
        raise _refuse("验证答案不对，请重新计算。", "Wrong answer to the human check; try again.", "wrong")
