"""Building the mail: UTF-8 text, encoded headers, a Message-ID that survives retries."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from plugins.mail.config import MailConfig
from plugins.mail.render import Rendered


def message_id(idempotency_key: str, sender: str) -> str:
    """The same for every attempt of one job: a retry after a lost answer from the server
    is recognisably the same mail, which receiving systems and mail clients de-duplicate."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "madoguchi.invalid"
    return f"<madoguchi.{digest}@{domain}>"


def build(config: MailConfig, recipient: str, rendered: Rendered, *, idempotency_key: str,
          language: str, now: datetime | None = None) -> EmailMessage:
    message = EmailMessage()  # policy.default: non-ASCII headers become RFC 2047 encoded words
    sender_user, _, sender_domain = config.sender.partition("@")
    message["From"] = Address(display_name=config.sender_name, username=sender_user, domain=sender_domain)
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now or datetime.now(config.zone))
    message["Message-ID"] = message_id(idempotency_key, config.sender)
    # RFC 3834: automatic mail — out-of-office replies and similar robots must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    # Base64 rather than 8bit: not every relay on the way announces 8BITMIME, and for
    # Japanese text it is also shorter than quoted-printable.
    message.set_content(rendered.body, subtype="plain", charset="utf-8", cte="base64")
    message["Content-Language"] = language  # after set_content, which replaces Content-* headers
    return message
