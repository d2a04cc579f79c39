"""住民記録 (resident records) connector: look residents up and notify changes, from service tasks.

Operations (docs/plugins/resident-records.md has the details):

- ``resident_records.lookup`` — params ``{jpki_serial}`` or ``{name, birth_date, address}`` →
  ``{"resident": {...}, "match": "found", "candidates": 1}``; nobody matching is an answer
  (``"match": "none"``), not an error; several matching → ``"match": "ambiguous"`` with their
  number but none of their data.
- ``resident_records.notify_change`` — params ``{resident_id, kind, fields, effective_date}``
  → ``{"change": {...receipt...}}``, sent with ``Idempotency-Key: <context.idempotency_key>``
  so a retried job does not apply the change twice.

Both run in background jobs (service tasks park); a failure raises, and the job runner retries
with backoff and opens an incident when the attempts run out. Settings come from
``MADOGUCHI_RESIDENT_RECORDS_<NAME>``; the field mapping is the ``mapping`` setting.
"""

from __future__ import annotations

from engine.hookspecs import hookimpl
from engine.plugins import PluginError, Setting
from plugins.resident_records.client import (
    InvalidParameters,
    ResidentRecordsClient,
    UnexpectedAnswer,
    variable,
)
from plugins.resident_records.mapping import Mapping, MappingError, load_mapping, parse_iso

PLUGIN = __name__
LOOKUP = "resident_records.lookup"
NOTIFY_CHANGE = "resident_records.notify_change"

SETTINGS = {
    "base_url": Setting(default="", description="Base URL of the resident records API, e.g. "
                                                "https://jumin.example.lg.jp/api/v1"),
    "token": Setting(default="", secret=True, description="API token, sent as 'Authorization: Bearer …'"),
    "connect_timeout": Setting(default=3.0, description="Seconds to wait for a connection"),
    "read_timeout": Setting(default=10.0, description="Seconds to wait for an answer"),
    "mapping": Setting(default="", description="Field mapping: JSON text or the path of a JSON file; "
                                               "empty: the built-in default"),
}


@hookimpl
def madoguchi_plugin_settings():
    return SETTINGS


@hookimpl
def madoguchi_operations(engine):
    connector = Connector.from_settings(engine.plugin_settings(PLUGIN))
    return {LOOKUP: connector.lookup, NOTIFY_CHANGE: connector.notify_change}


class Connector:
    """The two operations, bound to one engine's settings."""

    def __init__(self, settings: dict, mapping: Mapping):
        self.settings = settings
        self.mapping = mapping
        self._client: ResidentRecordsClient | None = None

    @classmethod
    def from_settings(cls, settings: dict) -> Connector:
        # A broken mapping stops the engine at start-up, not the first application that needs it.
        try:
            mapping = load_mapping(settings.get("mapping"))
        except MappingError as exc:
            raise PluginError(f"plugin {PLUGIN!r}: setting mapping ({variable('mapping')}): {exc}") from None
        return cls(settings, mapping)

    def client(self) -> ResidentRecordsClient:
        # Built at the first call, not at start-up: an unset base URL then fails the job (an
        # incident saying which variable to set) instead of every engine start, including on
        # machines that never run these operations. Worker threads may race here; harmless.
        if self._client is None:
            s = self.settings
            self._client = ResidentRecordsClient(s["base_url"], s["token"], connect_timeout=s["connect_timeout"],
                                                 read_timeout=s["read_timeout"])
        return self._client

    # -- resident_records.lookup ------------------------------------------------------------

    def lookup(self, params: dict, context) -> dict:
        """Find one resident by JPKI certificate serial or by name, birth date and address.

        The serial wins when both are given: a Camunda external task passes the whole task
        data, which may hold both, and the certificate is the stronger identification.
        """
        serial = params.get("jpki_serial")
        if serial not in (None, ""):
            if not isinstance(serial, str) or not serial.strip():
                raise InvalidParameters("lookup: 'jpki_serial' must be text")
            record = self.client().by_jpki_serial(serial.strip(), request_id=context.idempotency_key)
            records, total = ([] if record is None else [record]), (0 if record is None else 1)
            where = "GET /jpki/<serial>/resident"
        else:
            criteria = self._criteria(params)
            records, total = self.client().search(criteria, request_id=context.idempotency_key)
            where = "POST /residents/search"
        if total == 0:
            return {"resident": None, "match": "none", "candidates": 0}
        if total > 1:
            # Other residents' data must not land in this application: only how many there are.
            return {"resident": None, "match": "ambiguous", "candidates": total}
        if not records:
            raise UnexpectedAnswer(f"{where}: 'total' is 1 but no record came with it")
        return {"resident": self.mapping.record(records[0], f"{where}, record 1"), "match": "found",
                "candidates": 1}

    def _criteria(self, params: dict) -> dict:
        missing = [name for name in ("name", "birth_date", "address")
                   if not isinstance(params.get(name), str) or not params[name].strip()]
        if missing:
            raise InvalidParameters("lookup: give 'jpki_serial', or 'name', 'birth_date' and 'address' (missing or "
                                    f"empty: {', '.join(missing)})")
        wanted = {name: params[name].strip() for name in ("name", "birth_date", "address")}
        return self.mapping.to_core(wanted, "lookup")

    # -- resident_records.notify_change ----------------------------------------------------

    def notify_change(self, params: dict, context) -> dict:
        """Tell the core system about a change (転居, 氏名変更, 世帯変更, 転出) of one resident."""
        resident_id = params.get("resident_id")
        if resident_id in (None, "") and isinstance(params.get("resident"), dict):
            # After a lookup the task data holds {"resident": {"resident_id": …}}; a Camunda
            # external task passes exactly that, so it need not be copied out first.
            resident_id = params["resident"].get("resident_id")
        if isinstance(resident_id, int) and not isinstance(resident_id, bool):
            resident_id = str(resident_id)
        if not isinstance(resident_id, str) or not resident_id.strip():
            raise InvalidParameters("notify_change: 'resident_id' (the 宛名番号) is missing")
        kind = params.get("kind")
        core_kind = self.mapping.change_kind(kind)
        try:
            effective = parse_iso(params.get("effective_date"))
        except ValueError:
            raise InvalidParameters("notify_change: 'effective_date' must be a date written YYYY-MM-DD") from None
        fields = params.get("fields") or {}
        if not isinstance(fields, dict):
            raise InvalidParameters("notify_change: 'fields' must be an object of procedure field → new value")
        change = {"kind": core_kind, "effective_date": self.mapping.core_date(effective),
                  "fields": self.mapping.to_core(fields, "notify_change")}
        receipt, replayed = self.client().notify_change(resident_id.strip(), change,
                                                        idempotency_key=context.idempotency_key)
        return {"change": {"change_id": receipt["change_id"], "resident_id": resident_id.strip(), "kind": kind,
                           "effective_date": effective.isoformat(), "accepted_at": receipt.get("accepted_at"),
                           "replayed": replayed}}
