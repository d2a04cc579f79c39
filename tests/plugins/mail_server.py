"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), and a throwaway TLS identity."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Inbox:
    """An aiosmtpd handler keeping what arrives. ``rcpt_replies`` / ``data_replies`` script
    the answers to the next RCPT / DATA commands (e.g. ``"550 5.1.1 unknown user"``)."""

    def __init__(self, logins: dict[str, str] | None = None):
        self.messages: list[EmailMessage] = []  # accepted
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO) of accepted mails
        self.offered: list[EmailMessage] = []  # every DATA, accepted or refused
        self.raw: list[bytes] = []  # the same, as the bytes that came over the wire
        self.rcpt_replies: list[str] = []
        self.data_replies: list[str] = []
        self.logins = logins or {}
        self.logged_in: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.offered.append(message)
        self.raw.append(envelope.content)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if self.logins.get(login) == password:
            self.logged_in.append(login)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def free_port() -> int:
    """A port nothing listens on (the OS just handed it out and we let go of it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(inbox: Inbox, **options):
    """Serve ``inbox`` on a free port of 127.0.0.1 until the block ends; yields the port."""
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA; returns (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
