"""``madoguchi applicants add|list`` and the demo's applicant accounts."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).parents[3]


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_add_and_list_an_individual_and_a_business(cli, engine, db):
    added = json.loads(ok(cli("applicants", "add", "Hanako@Example.jp", "--name", "山田 花子", "--kana", "やまだ はなこ",
                              "--postcode", "1000001", "--password-stdin", "--json",
                              input="hanako-password-1\n")).stdout)
    assert added["email"] == "hanako@example.jp" and added["verified"] and added["kind"] == "individual"
    ok(cli("applicants", "add", "info@madoguchi.example.jp", "--kind", "business", "--name", "佐藤 次郎",
           "--company-name", "株式会社窓口商事", "--corporate-number", "7000012050002",
           "--representative", "代表取締役 窓口 太郎", "--language", "en", "--password-stdin",
           input="shoji-password-1\n"))
    listed = json.loads(ok(cli("applicants", "list", "--json")).stdout)
    assert [(a["email"], a["kind"], a["display_name"], a["corporate_number"], a["language"]) for a in listed] == [
        ("hanako@example.jp", "individual", "山田 花子", None, "ja"),
        ("info@madoguchi.example.jp", "business", "株式会社窓口商事", "7000012050002", "en")]
    text = ok(cli("applicants", "list")).stdout
    assert "hanako@example.jp" in text and "verified" in text
    with db.transaction() as session:
        assert engine.authenticate_applicant(session, "hanako@example.jp", "hanako-password-1").verified


def test_bad_input_names_the_fields_and_exits_2(cli):
    result = cli("applicants", "add", "info@madoguchi.example.jp", "--kind", "business", "--name", "佐藤 次郎",
                 "--corporate-number", "7000012050003", "--password-stdin", input="shoji-password-1\n")
    assert result.exit_code == 2
    assert "company_name" in result.stderr and "corporate_number" in result.stderr
    assert cli("applicants", "add", "x@example.jp", "--name", "x").exit_code == 2  # no password
    ok(cli("applicants", "add", "x@example.jp", "--name", "x", "--password-stdin", input="long-enough-pw\n"))
    taken = cli("applicants", "add", "x@example.jp", "--name", "x", "--password-stdin", input="long-enough-pw\n")
    assert taken.exit_code == 2 and "already has an account" in taken.stderr


def test_demo_adds_applicants_and_files_the_sample_for_yamada(cli, engine, db):
    result = ok(cli("demo", "--workflows", str(REPO / "workflows")))
    assert "yamada@example.jp" in result.stdout
    ok(cli("demo", "--workflows", str(REPO / "workflows")))  # a second run keeps the accounts
    with db.transaction() as session:
        accounts = {a.email: a for a in engine.applicants(session)}
        assert set(accounts) == {"yamada@example.jp", "info@madoguchi-shoji.example.jp"}
        assert accounts["info@madoguchi-shoji.example.jp"].corporate_number == "7000012050002"
        assert engine.authenticate_applicant(session, "yamada@example.jp", "madoguchi-demo") is not None
        filed = engine.applicant_applications(session, accounts["yamada@example.jp"].id)
    assert [f.public_status for f in filed] == ["completed", "completed"]
