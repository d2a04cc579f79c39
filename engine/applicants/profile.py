"""Checking and normalising what an applicant types into the registration and profile forms.

Every problem is reported at once, per field, with a short code the portal translates and an
English message for the command line — never only the first problem.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address

from engine.applicants import corporate_number
from engine.errors import BadInput

KINDS = ("individual", "business")
LANGUAGES = ("ja", "en")
PASSWORD_MIN = 10
PASSWORD_MAX = 200

#: Profile fields of every account, and those a business account adds.
PERSON_FIELDS = ("name", "name_kana", "birth_date", "postcode", "address", "phone")
BUSINESS_FIELDS = ("company_name", "company_name_kana", "corporate_number", "representative")
PROFILE_FIELDS = PERSON_FIELDS + BUSINESS_FIELDS

_KANA = re.compile(r"^[\u30a1-\u30f6\u30fc\u30fb ]+$")
_POSTCODE = re.compile(r"^(\d{3})-?(\d{4})$")
_PHONE = re.compile(r"^\+?[\d-]{10,16}$")
_LIMITS = {"name": 200, "name_kana": 200, "address": 500, "company_name": 300, "company_name_kana": 300,
           "representative": 200}


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message: str


class ProfileInvalid(BadInput):
    """One or more fields are not acceptable; ``problems`` names each field."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    def by_field(self) -> dict[str, str]:
        return {p.field: p.code for p in self.problems}


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def email_problem(email: str) -> FieldProblem | None:
    """Strict on purpose: a mistyped address would only bounce, and the account stays unverified."""
    if not email:
        return FieldProblem("email", "required", "enter your e-mail address")
    try:
        address = Address(addr_spec=email)
        good = (email.count("@") == 1 and email.isascii() and not any(c.isspace() for c in email)
                and address.username and "." in address.domain and len(email) <= 254)
    except Exception:  # the parser raises several unrelated types; all mean "not an address"
        good = False
    return None if good else FieldProblem("email", "invalid_email", f"{email!r} is not an e-mail address")


def password_problem(password: str | None, field: str = "password") -> FieldProblem | None:
    password = password or ""
    if len(password) < PASSWORD_MIN:
        return FieldProblem(field, "password_too_short", f"use at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        return FieldProblem(field, "password_too_long", f"use at most {PASSWORD_MAX} characters")
    return None


def to_katakana(value: str) -> str:
    """Hiragana and half-width katakana as full-width katakana (the form 住民記録 systems keep)."""
    text = unicodedata.normalize("NFKC", value).strip()
    text = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)
    return " ".join(text.replace("\u3000", " ").split())


def clean_profile(kind: str, values: dict, *, today: date | None = None) -> dict:
    """The profile fields of ``values`` checked and normalised; raises ProfileInvalid.

    Empty optional fields become None. For a business, ``name`` is the contact person.
    """
    if kind not in KINDS:
        raise ProfileInvalid([FieldProblem("kind", "invalid_kind", f"kind must be one of {', '.join(KINDS)}")])
    today = today or date.today()
    text = {field: " ".join(str(values.get(field) or "").split()) for field in PROFILE_FIELDS}
    problems: list[FieldProblem] = []
    clean: dict = {}

    required = ["name"] + (["company_name", "corporate_number", "representative"] if kind == "business" else [])
    for field in required:
        if not text[field]:
            problems.append(FieldProblem(field, "required", "this field is required"))
    for field, limit in _LIMITS.items():
        if len(text[field]) > limit:
            problems.append(FieldProblem(field, "too_long", f"use at most {limit} characters"))
        clean[field] = text[field] or None

    for field in ("name_kana", "company_name_kana"):
        if text[field]:
            kana = to_katakana(text[field])
            if not _KANA.match(kana):
                problems.append(FieldProblem(field, "invalid_kana", "write the reading in katakana or hiragana"))
            clean[field] = kana

    clean["birth_date"] = None
    if text["birth_date"]:
        try:
            born = date.fromisoformat(unicodedata.normalize("NFKC", text["birth_date"]))
        except ValueError:
            problems.append(FieldProblem("birth_date", "invalid_date", "give the date as YYYY-MM-DD"))
        else:
            if not date(1900, 1, 1) <= born <= today:
                problems.append(FieldProblem("birth_date", "date_out_of_range", "the date must be in the past"))
            clean["birth_date"] = born

    clean["postcode"] = None
    if text["postcode"]:
        match = _POSTCODE.match(unicodedata.normalize("NFKC", text["postcode"]).replace("ー", "-").replace(" ", ""))
        if match is None:
            problems.append(FieldProblem("postcode", "invalid_postcode", "a postcode has 7 digits, e.g. 100-0001"))
        else:
            clean["postcode"] = f"{match.group(1)}-{match.group(2)}"

    clean["phone"] = None
    if text["phone"]:
        phone = unicodedata.normalize("NFKC", text["phone"]).replace(" ", "").replace("ー", "-")
        digits = sum(c.isdigit() for c in phone)
        if not _PHONE.match(phone) or not 10 <= digits <= 15:
            problems.append(FieldProblem("phone", "invalid_phone", "a phone number has 10 or 11 digits"))
        clean["phone"] = phone

    clean["corporate_number"] = None
    if kind == "business" and text["corporate_number"]:
        number = corporate_number.normalise(text["corporate_number"])
        if not corporate_number.is_valid(number):
            problems.append(FieldProblem("corporate_number", "invalid_corporate_number",
                                         "a corporate number (法人番号) has 13 digits and a valid check digit"))
        clean["corporate_number"] = number
    if kind == "individual":
        for field in BUSINESS_FIELDS:
            clean[field] = None
    if problems:
        raise ProfileInvalid(problems)
    return clean
