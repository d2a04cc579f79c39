"""Shared steps of the applicant tests: register, read the link out of the queued mail."""

from __future__ import annotations

from tests.engine.jobs.support import job_rows

PASSWORD = "hanako-password-1"
PROFILE = {"name": "山田 花子", "name_kana": "やまだ はなこ", "birth_date": "1985-04-01", "postcode": "1000001",
           "address": "本町1-2-3", "phone": "03-1234-5678"}
BUSINESS = {"name": "佐藤 次郎", "name_kana": "サトウ ジロウ", "company_name": "株式会社窓口商事",
            "company_name_kana": "カブシキガイシャマドグチショウジ", "corporate_number": "7000012050002",
            "representative": "代表取締役 窓口 太郎", "postcode": "100-0005", "address": "丸の内1-1-1",
            "phone": "03-9876-5432"}


def link(token: str) -> str:
    return f"https://city.example.jp/account/link/{token}"


def mails(db) -> list[dict]:
    """The notification jobs queued so far: {recipient, template, language, data}."""
    return [job.payload for job in job_rows(db, kind="notification")]


def token_in(payload: dict) -> str:
    return payload["data"]["link"].rsplit("/", 1)[1]


def register(engine, db, email: str = "hanako@example.jp", *, kind: str = "individual", profile: dict | None = None,
             password: str = PASSWORD, language: str = "ja") -> None:
    with db.transaction() as session:
        engine.register_applicant(session, email=email, password=password, kind=kind,
                                  profile=profile or (BUSINESS if kind == "business" else PROFILE),
                                  language=language, verify_link=link)


def registered_and_verified(engine, db, email: str = "hanako@example.jp", **options) -> int:
    register(engine, db, email, **options)
    token = token_in([m for m in mails(db) if m["recipient"] == email][-1])
    with db.transaction() as session:
        return engine.verify_applicant_email(session, token).id
