"""The mail plugin's settings: declared for ``madoguchi plugins``, read from MADOGUCHI_MAIL_*.

Settings are read again for every event and every delivery (a few dictionary look-ups), so
a worker picks up a changed environment on restart without the plugin caching anything per
engine. Lifecycle hooks receive only the event, not the engine, which is why this module
resolves the variables itself instead of going through ``Engine.plugin_settings``; both read
the same variables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.plugins import Setting, resolve_settings
from plugins.mail.addresses import valid_address

#: The name the plugin is registered under; its variables are MADOGUCHI_MAIL_<NAME>.
PLUGIN = "plugins.mail"

LANGUAGES = ("ja", "en")

#: Mails to the applicant, by template name.
APPLICANT_TEMPLATES = ("received", "returned", "approved", "rejected", "document_ready", "withdrawn",
                       "completed")
#: Mails to staff mailboxes (opt-in through ``task_addresses``).
STAFF_TEMPLATES = ("task_created",)
TEMPLATES = APPLICANT_TEMPLATES + STAFF_TEMPLATES

SETTINGS: dict[str, Setting] = {
    "host": Setting("127.0.0.1", description="SMTP server (the municipality's relay)"),
    "port": Setting(25, description="SMTP port: 25 (relay), 587 (STARTTLS) or 465 (TLS)"),
    "username": Setting("", description="SMTP login name; empty: no login"),
    "password": Setting("", secret=True, description="SMTP password"),
    "use_tls": Setting(False, description="connect with implicit TLS (SMTPS, usually port 465)"),
    "starttls": Setting(False, description="upgrade the connection with STARTTLS (usually port 587)"),
    "tls_ca_file": Setting("", description="PEM file of the CA that signed the server's certificate; "
                                           "empty: the system's trust store"),
    "timeout_seconds": Setting(10.0, description="give up on a silent SMTP server after this long"),
    "sender": Setting("noreply@city.example.jp", description="From address (also the Message-ID domain)"),
    "sender_name": Setting("", description="display name of the From address, e.g. ○○市役所"),
    "recipient_field": Setting("applicant.email", description="dotted path of the applicant's address "
                                                               "in the application data"),
    "name_field": Setting("applicant.name", description="dotted path of the applicant's name"),
    "language_field": Setting("language", description="dotted path of the applicant's language (ja, en)"),
    "default_language": Setting("ja", description="language when the data names none we have templates for"),
    "events": Setting(",".join(TEMPLATES),
                      description="comma-separated mails to send: " + ", ".join(TEMPLATES)),
    "task_addresses": Setting("", description="staff mailboxes told about new tasks: group=address,… "
                                              "(* for any group); empty: none"),
    "office_name": Setting("", description="the office's name, shown in mails"),
    "contact": Setting("", description="お問い合わせ先 shown in mails; empty: the procedure's department"),
    "templates_dir": Setting("", description="folder of <lang>/<template>.txt files overriding "
                                             "the built-in templates"),
    "timezone": Setting("Asia/Tokyo", description="time zone of dates in mails and of the Date header"),
}


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_tls: bool
    starttls: bool
    tls_ca_file: str
    timeout_seconds: float
    sender: str
    sender_name: str
    recipient_field: str
    name_field: str
    language_field: str
    default_language: str
    events: frozenset[str]
    task_addresses: dict[str, str]
    office_name: str
    contact: str
    templates_dir: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load(environ: Mapping[str, str] | None = None) -> MailConfig:
    values = resolve_settings(SETTINGS, PLUGIN, os.environ if environ is None else environ)
    values["events"] = frozenset(_items(values["events"]))
    values["task_addresses"] = parse_task_addresses(values["task_addresses"])
    values["default_language"] = values["default_language"].strip().lower()
    return MailConfig(**values)


def _items(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]


def parse_task_addresses(text: str) -> dict[str, str]:
    """``"clerks=shinsa@city.example.jp, *=jimu@city.example.jp"`` → {group: address}."""
    mapping = {}
    for item in _items(text):
        group, sep, address = item.partition("=")
        if not sep or not group.strip() or not address.strip():
            raise ValueError(f"task_addresses: {item!r} is not group=address")
        mapping[group.strip()] = address.strip()
    return mapping


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """Configuration mistakes worth refusing to start over (checked by madoguchi_startup)."""
    try:
        config = load(environ)
    except ValueError as exc:  # a bad number or a malformed task_addresses entry
        return [str(exc)]
    found = []
    if config.use_tls and config.starttls:
        found.append("use_tls and starttls exclude each other: use_tls is TLS from the first byte "
                     "(port 465), starttls upgrades a plain connection (port 587)")
    if config.password and not config.username:
        found.append("a password is set but no username")
    unknown = sorted(config.events - set(TEMPLATES))
    if unknown:
        found.append(f"events: unknown {', '.join(unknown)} (known: {', '.join(TEMPLATES)})")
    if config.default_language not in LANGUAGES:
        found.append(f"default_language must be one of {', '.join(LANGUAGES)}")
    if valid_address(config.sender) is None:
        found.append(f"sender {config.sender!r} is not a mail address")
    found += [f"task_addresses: {address!r} (group {group}) is not a mail address"
              for group, address in config.task_addresses.items() if valid_address(address) is None]
    if config.templates_dir and not Path(config.templates_dir).is_dir():
        found.append(f"templates_dir {config.templates_dir!r} is not a folder")
    if config.tls_ca_file and not Path(config.tls_ca_file).is_file():
        found.append(f"tls_ca_file {config.tls_ca_file!r} does not exist")
    try:
        config.zone  # noqa: B018 — resolving the zone is the check
    except (ZoneInfoNotFoundError, ValueError):
        found.append(f"timezone {config.timezone!r} is unknown")
    return found
