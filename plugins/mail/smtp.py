"""Handing a mail to the SMTP server. Every failure raises, so the job retries and, when its
attempts run out, becomes an incident an admin can retry once the server is back."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from plugins.mail.config import MailConfig


def tls_context(config: MailConfig) -> ssl.SSLContext:
    # Certificates and host names are always checked; an office relay with its own CA is
    # trusted through tls_ca_file, never by switching verification off.
    return ssl.create_default_context(cafile=config.tls_ca_file or None)


def send(config: MailConfig, message: EmailMessage) -> None:
    if config.use_tls:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                  context=tls_context(config))
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
    try:
        if config.starttls:
            client.starttls(context=tls_context(config))
        if config.username:
            client.login(config.username, config.password)
        # One recipient per mail, so a refused recipient raises SMTPRecipientsRefused here.
        client.send_message(message)
    except BaseException:
        client.close()
        raise
    # The server has taken the mail: a QUIT that fails now must not make the job send it again.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
