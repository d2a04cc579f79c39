"""A real RFC 3161 time-stamp authority over HTTP on 127.0.0.1, for tests.

The token is built by pyHanko's ``DummyTimeStamper`` with a TSA certificate from the test PKI
(EKU timeStamping, critical); the transport is a plain ``http.server`` in a thread, so the sealer
goes through the same HTTP client as in production.
"""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.sign.timestamps import DummyTimeStamper

from engine.issuance.pki import DevPki, Issued, issue_tsa_certificate


def tsa_certificate(pki: DevPki) -> Issued:
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test TSA"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Test Time-Stamp Authority"),
    ])
    return issue_tsa_certificate(pki.issuing_ca, subject)


class TsaServer:
    """``with TsaServer(pki) as tsa: ... tsa.url ...``; ``tsa.requests`` counts the answered requests.

    ``fixed_time`` makes every token carry that time, so a test can tell the token's time from the
    signer's own clock.
    """

    def __init__(self, pki: DevPki, *, fixed_time: dt.datetime | None = None):
        self.issued = tsa_certificate(pki)
        self._stamper = DummyTimeStamper(
            tsa_cert=translate_pyca_cryptography_cert_to_asn1(self.issued.certificate),
            tsa_key=translate_pyca_cryptography_key_to_asn1(self.issued.key),
            certs_to_embed=[translate_pyca_cryptography_cert_to_asn1(pki.issuing_ca.certificate)],
            fixed_dt=fixed_time,
        )
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/tsa"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    request = tsp.TimeStampReq.load(body)
                    answer = server._stamper.request_tsa_response(request).dump()
                except Exception:  # a bad request gets a 400, as a real TSA would answer
                    self.send_error(400, "not a TimeStampReq")
                    return
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def start(self) -> TsaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TsaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
