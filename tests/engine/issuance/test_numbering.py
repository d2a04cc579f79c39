"""文書番号: serials per procedure and fiscal year, gap-free and unique under concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.errors import BadInput
from engine.issuance.numbering import check_format, format_number, take_serial
from engine.store.models import DocumentCounter


def test_serials_count_per_procedure_and_fiscal_year(db):
    with db.transaction() as session:
        assert [take_serial(session, "dog", 2026) for _ in range(3)] == [1, 2, 3]
        assert take_serial(session, "dog", 2027) == 1
        assert take_serial(session, "subsidy", 2026) == 1


def test_a_rolled_back_number_is_given_again(db):
    with db.transaction() as session:
        assert take_serial(session, "dog", 2026) == 1
    with pytest.raises(RuntimeError), db.transaction() as session:
        assert take_serial(session, "dog", 2026) == 2
        raise RuntimeError("the issuance failed")
    with db.transaction() as session:
        assert take_serial(session, "dog", 2026) == 2


def test_concurrent_issuers_get_consecutive_distinct_numbers(db):
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def issue(index: int) -> None:
        try:
            for attempt in range(5):
                try:
                    with db.transaction() as session:
                        serial = take_serial(session, "busy", 2026)
                        if index % 4 == 0 and attempt == 0:
                            raise RuntimeError("rolled back")  # its number must come back to someone
                    with lock:
                        taken.append(serial)
                    return
                except RuntimeError:
                    continue
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 17))
    with db.transaction() as session:
        assert session.scalar(select(DocumentCounter.last_serial).where(DocumentCounter.procedure == "busy")) == 16


def test_number_formats():
    assert format_number("見生衛第{nendo}-{serial:06d}号", procedure="dog", fiscal_year=2026, serial=123) \
        == "見生衛第8-000123号"
    assert format_number("{nendo_label}第{serial}号", procedure="dog", fiscal_year=2019, serial=7) == "令和元年度第7号"
    assert format_number(None, procedure="dog", fiscal_year=2026, serial=5) == "dog第8-000005号"
    with pytest.raises(BadInput, match="unknown fields"):
        check_format("{year}-{serial}")
    with pytest.raises(BadInput, match="must contain"):
        check_format("第{nendo}号")
    with pytest.raises(BadInput, match="malformed"):
        check_format("{serial")
