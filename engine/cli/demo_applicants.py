"""The demo's applicant accounts: an individual and a business, with the demo password."""

from __future__ import annotations

from sqlalchemy.orm import Session

DEMO_APPLICANTS = {
    "yamada@example.jp": dict(kind="individual", profile=dict(
        name="山田 花子", name_kana="ヤマダ ハナコ", birth_date="1985-04-01", postcode="100-0001",
        address="本町1-2-3", phone="03-1234-5678")),
    "info@madoguchi-shoji.example.jp": dict(kind="business", profile=dict(
        name="佐藤 次郎", name_kana="サトウ ジロウ", company_name="株式会社窓口商事",
        company_name_kana="カブシキガイシャマドグチショウジ", corporate_number="7000012050002",
        representative="代表取締役 窓口 太郎", postcode="100-0005", address="丸の内1-1-1",
        phone="03-9876-5432")),
}


def add_demo_applicants(engine, session: Session, password: str) -> dict[str, int]:
    """Create the accounts that do not exist yet (a second ``madoguchi demo`` keeps them);
    returns their ids by address."""
    existing = {account.email: account.id for account in engine.applicants(session, limit=10_000)}
    for email, account in DEMO_APPLICANTS.items():
        if email not in existing:
            existing[email] = engine.add_applicant(session, email=email, password=password, actor="system:demo",
                                                   **account).id
    return {email: existing[email] for email in DEMO_APPLICANTS}
