"""/api/v1/documents: the register entry, the sealed PDF (its download recorded), verification."""

from __future__ import annotations

import hashlib
import io

import pytest

from engine.issuance.pki import init_dev_seal
from tests.engine.helpers import add_user
from tests.engine.issuance.sealing_support import flip_byte_in
from tests.engine.issuance.test_issuance_flow import BUNDLE, STAFF, decided_by_substitute, issued_document
from tests.webui.api.conftest import bearer

NEEDLE = b"/Producer"  # inside the signed range


@pytest.fixture
def issued(engine, db, settings):
    init_dev_seal(settings.home)
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    return issued_document(engine, db, decided_by_substitute(engine, db))


def test_a_document_is_read_downloaded_and_verified(engine, db, client, issued, make_token):
    headers = bearer(make_token("tanaka", "documents:read", "documents:verify", "applications:read", name="erp"))
    entry = client.get(f"/api/v1/documents/{issued.public_id}", headers=headers)
    assert entry.status_code == 200
    assert (entry.json["number"], entry.json["status"], entry.json["sha256"]) == (issued.number, "issued",
                                                                                 issued.sha256)
    detail = client.get(f"/api/v1/applications/{issued.application_id}", headers=headers).json
    assert [d["public_id"] for d in detail["documents"]] == [issued.public_id]

    pdf = client.get(f"/api/v1/documents/{issued.public_id}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == issued.sha256
    with db.transaction() as session:
        [download] = engine.document_downloads(session, issued.public_id)
        assert (download.actor, download.channel, download.client) == ("tanaka", "api", "token:erp")

    valid = client.post("/api/v1/documents/verify", headers=headers,
                        data={"file": (io.BytesIO(pdf.data), "notice.pdf")})
    assert valid.status_code == 200 and valid.json["status"] == "valid", valid.json
    altered = client.post("/api/v1/documents/verify", headers=headers,
                          data={"file": (io.BytesIO(flip_byte_in(pdf.data, NEEDLE)), "altered.pdf")})
    assert altered.status_code == 200 and altered.json["status"] != "valid"
    assert client.get("/api/v1/documents/no-such-document", headers=headers).status_code == 404
    missing = client.post("/api/v1/documents/verify", headers=headers, data={})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "file"
