"""The portal's wording for the engine's field problems (codes from engine.applicants.profile)."""

from __future__ import annotations

from flask_babel import gettext as _

PUBLIC_STATUS_CODES = ("submitted", "in_progress", "returned", "completed", "rejected", "withdrawn")


def problem_text(code: str) -> str:
    texts = {
        "required": _("Fill in this field."),
        "too_long": _("This is too long."),
        "invalid_email": _("Enter an e-mail address like name@example.jp."),
        "email_taken": _("This address cannot be used for a new account."),
        "password_too_short": _("Use at least 10 characters."),
        "password_too_long": _("Use at most 200 characters."),
        "wrong_password": _("The current password is not right."),
        "passwords_differ": _("The two passwords are not the same."),
        "invalid_kana": _("Write the reading in katakana or hiragana."),
        "invalid_date": _("Enter the date as YYYY-MM-DD."),
        "date_out_of_range": _("Enter a date in the past."),
        "invalid_postcode": _("A postcode has 7 digits, like 100-0001."),
        "invalid_phone": _("Enter a phone number of 10 or 11 digits, like 03-1234-5678."),
        "invalid_corporate_number": _("A corporate number has 13 digits; check it on the certificate of "
                                      "registration or the National Tax Agency's site."),
        "invalid_kind": _("Choose individual or business."),
        "invalid_language": _("Choose Japanese or English."),
    }
    return texts.get(code, _("Check this field."))


def public_status_text(code: str) -> str:
    return {
        "submitted": _("Submitted"),
        "in_progress": _("In progress"),
        "returned": _("Returned for correction"),
        "completed": _("Processing completed"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn"),
    }[code]


def field_label(field: str) -> str:
    return {
        "email": _("E-mail address"),
        "password": _("Password"),
        "password_confirm": _("Password (again)"),
        "current_password": _("Current password"),
        "new_password": _("New password"),
        "kind": _("Account type"),
        "name": _("Name"),
        "name_kana": _("Name in kana"),
        "birth_date": _("Date of birth"),
        "postcode": _("Postcode"),
        "address": _("Address"),
        "phone": _("Phone number"),
        "company_name": _("Company name"),
        "company_name_kana": _("Company name in kana"),
        "corporate_number": _("Corporate number"),
        "representative": _("Representative"),
        "language": _("Language for mails"),
    }.get(field, field)
