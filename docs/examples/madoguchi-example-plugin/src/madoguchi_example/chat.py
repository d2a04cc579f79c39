"""Posting a notice to a department's chat room through the chat service's webhook."""

from __future__ import annotations

import httpx


def post_notice(url: str, token: str, text: str, *, idempotency_key: str, timeout: float = 10.0) -> str:
    """Post ``text`` and return the chat message's id.

    The chat service remembers ``Idempotency-Key``: posting again with the same key returns
    the first message instead of posting a second one, so a retried job never notifies twice.
    Any failure raises (``httpx.HTTPError``), which fails the job's attempt.
    """
    response = httpx.post(url, json={"text": text}, timeout=timeout,
                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": idempotency_key})
    response.raise_for_status()
    return response.json()["id"]
