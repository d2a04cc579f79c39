"""Uploads through the engine: per-procedure limits and types, resuming, termination,
ownership, and nothing left behind when a file is refused."""

from __future__ import annotations

import hashlib
import io

import pytest

from engine.attachments import AttachmentRefused, OffsetMismatch
from engine.errors import Conflict, DeployRefused, NotFound
from tests.engine.attachments.conftest import KEY, LIMIT, bundle, staged, stored
from tests.engine.attachments.samples import HTML, sample

HANAKO, JIRO = "applicant:1", "applicant:2"


def create(engine, db, name: str, length: int, owner: str = HANAKO, procedure: str | None = KEY):
    with db.transaction() as session:
        return engine.create_upload(session, owner=owner, file_name=name, length=length, procedure_key=procedure)


def pieces(content: bytes, size: int = 1000):
    return (content[i:i + size] for i in range(0, len(content), size))


def test_an_upload_in_pieces_becomes_an_attachment_reference(engine, db, procedure):
    content = sample("pdf")
    upload = create(engine, db, "C:\\Users\\hanako\\住民票.pdf", len(content))
    half = len(content) // 2
    assert engine.append_upload(upload.id, HANAKO, 0, pieces(content[:half])).offset == half
    done = engine.append_upload(upload.id, HANAKO, half, pieces(content[half:]))
    assert done.complete and done.reference == {
        "name": "住民票.pdf", "sha256": hashlib.sha256(content).hexdigest(), "key": f"attachments/{upload.id[:2]}/{upload.id}.pdf",
        "size": len(content), "content_type": "application/pdf"}
    assert staged(engine) == []
    with db.transaction() as session:
        reference = engine.take_attachment(session, upload.id, HANAKO)
    from engine.storage import engine_storage

    with engine_storage(engine).open(reference["key"]) as file:
        assert file.read() == content
    # Held by application data now: no longer deletable through the upload.
    with db.transaction() as session, pytest.raises(Conflict):
        engine.terminate_upload(session, upload.id, HANAKO)


def test_a_broken_piece_keeps_what_arrived_and_the_upload_resumes_there(engine, db, procedure):
    content = sample("png")
    upload = create(engine, db, "写真.png", len(content))
    assert engine.append_upload(upload.id, HANAKO, 0, iter([content[:30]])).offset == 30
    with pytest.raises(OffsetMismatch) as mismatch:
        engine.append_upload(upload.id, HANAKO, 0, iter([content]))
    assert mismatch.value.offset == 30
    with db.transaction() as session:
        assert engine.upload_state(session, upload.id, HANAKO).offset == 30
    assert engine.append_upload(upload.id, HANAKO, 30, iter([content[30:]])).complete


def test_types_and_sizes_are_the_procedures_and_refusals_name_the_file(engine, db, procedure):
    with pytest.raises(AttachmentRefused) as refused:
        create(engine, db, "表.xlsx", 100)
    assert refused.value.reason == "type" and refused.value.allowed == ("pdf", "png", "docx")
    assert "表.xlsx" in str(refused.value) and "pdf, png, docx" in str(refused.value)
    with pytest.raises(AttachmentRefused) as refused:
        create(engine, db, "大きい.pdf", LIMIT + 1)
    assert refused.value.reason == "size" and refused.value.limit == LIMIT and "64 KB" in str(refused.value)
    # Without a procedure: the whole list and the global setting (100 MB by default).
    assert create(engine, db, "表.xlsx", 100 * 1024 * 1024, procedure=None).max_bytes == 100 * 1024 * 1024
    with pytest.raises(AttachmentRefused):
        create(engine, db, "表.xlsx", 100 * 1024 * 1024 + 1, procedure=None)
    with pytest.raises(AttachmentRefused):
        create(engine, db, "setup.exe", 100, procedure=None)
    with pytest.raises(NotFound):
        create(engine, db, "a.pdf", 100, procedure="no-such-procedure")


def test_content_not_matching_the_name_is_refused_and_nothing_is_kept(engine, db, procedure):
    upload = create(engine, db, "申請書.pdf", len(HTML))
    with pytest.raises(AttachmentRefused) as refused:
        engine.append_upload(upload.id, HANAKO, 0, iter([HTML]))
    assert refused.value.reason == "content" and "申請書.pdf" in str(refused.value)
    assert staged(engine) == [] and stored(engine) == []
    with db.transaction() as session, pytest.raises(NotFound):
        engine.upload_state(session, upload.id, HANAKO)


def test_more_bytes_than_announced_are_refused_mid_stream(engine, db, procedure):
    upload = create(engine, db, "a.pdf", 1000)
    sent = []

    def endless():
        while True:
            sent.append(1)
            yield b"%PDF-" + b"x" * 295

    with pytest.raises(AttachmentRefused) as refused:
        engine.append_upload(upload.id, HANAKO, 0, endless())
    assert refused.value.reason == "size" and len(sent) == 4  # stopped at the first piece too many
    assert staged(engine) == [] and stored(engine) == []


def test_a_whole_file_over_the_limit_is_refused_while_it_streams(engine, db, procedure):
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.read_bytes += len(buffer)
            buffer[:] = b"%" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(AttachmentRefused) as refused:
        engine.receive_attachment(owner=HANAKO, file_name="scan.pdf", stream=stream, procedure_key=KEY)
    assert refused.value.reason == "size" and refused.value.limit == LIMIT
    assert stream.read_bytes <= LIMIT + 256 * 1024  # read no further than one chunk past the limit
    assert staged(engine) == [] and stored(engine) == []
    with db.transaction() as session:
        from engine.store.models_attachments import AttachmentUpload

        assert session.query(AttachmentUpload).count() == 0


def test_a_whole_file_within_the_limit_is_stored(engine, db, procedure):
    content = sample("docx")
    upload = engine.receive_attachment(owner=HANAKO, file_name="計画書.docx", stream=io.BytesIO(content),
                                       procedure_key=KEY)
    assert upload.complete and upload.reference["size"] == len(content)
    assert upload.reference["sha256"] == hashlib.sha256(content).hexdigest()


def test_termination_removes_the_bytes(engine, db, procedure):
    upload = create(engine, db, "a.pdf", 1000)
    engine.append_upload(upload.id, HANAKO, 0, iter([b"%PDF-1.7 "]))
    assert len(staged(engine)) == 1
    with db.transaction() as session:
        engine.terminate_upload(session, upload.id, HANAKO)
    assert staged(engine) == []
    with pytest.raises(NotFound):
        engine.append_upload(upload.id, HANAKO, 9, iter([b"x"]))


def test_another_owner_cannot_see_continue_take_or_delete_an_upload(engine, db, procedure):
    upload = create(engine, db, "a.pdf", 1000)
    with db.transaction() as session:
        for act in (lambda: engine.upload_state(session, upload.id, JIRO),
                    lambda: engine.take_attachment(session, upload.id, JIRO),
                    lambda: engine.terminate_upload(session, upload.id, JIRO),
                    lambda: engine.upload_state(session, "0" * 32, HANAKO)):
            with pytest.raises(NotFound):
                act()
    with pytest.raises(NotFound):
        engine.append_upload(upload.id, JIRO, 0, iter([b"%PDF-"]))


def test_an_unfinished_upload_is_not_an_attachment(engine, db, procedure):
    upload = create(engine, db, "a.pdf", 1000)
    with db.transaction() as session, pytest.raises(NotFound, match="not finished"):
        engine.take_attachment(session, upload.id, HANAKO)


def test_a_manifest_with_a_bad_attachments_section_is_not_deployed(engine, db, tmp_path):
    with db.transaction() as session, pytest.raises(DeployRefused) as refused:
        engine.deploy(session, bundle(tmp_path, '[attachments]\nmax_bytes = "2 parsecs"\ntypes = ["pdf", "exe"]\n'))
    problems = {p.element_id: p.message for p in refused.value.problems}
    assert "parsecs" in problems["attachments.max_bytes"] and "exe" in problems["attachments.types"]


def test_a_manifest_may_allow_gigabytes(engine, db, tmp_path):
    with db.transaction() as session:
        engine.deploy(session, bundle(tmp_path, '[attachments]\nmax_bytes = "2GB"\n'))
        assert engine.attachment_policy(session, KEY).max_bytes == 2 * 1024 ** 3
