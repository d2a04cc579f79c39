"""The profile as form data: the conventional field names procedure forms use for the applicant.

Forms that name their fields this way are filled in for a signed-in applicant, and the mail
plugin finds the address (``applicant.email``), name (``applicant.name``) and language
(``language``) at its default paths. Empty profile fields are left out.

=================================  =============================================================
field                              value
=================================  =============================================================
``applicant.kind``                 ``individual`` or ``business``
``applicant.email``                the account's (confirmed) address
``applicant.name``                 the person's name; for a business the company name (法人名)
``applicant.name_kana``            its reading in katakana (for a business: the company's)
``applicant.birth_date``           ``YYYY-MM-DD`` (individuals)
``applicant.postcode``             ``NNN-NNNN``
``applicant.address``              the address (for a business: its office)
``applicant.phone``                the phone number
``applicant.corporate_number``     法人番号, 13 digits (business)
``applicant.representative``       代表者 (business)
``applicant.contact_person``       担当者 (business)
``applicant.contact_person_kana``  its reading (business)
``language``                       ``ja`` or ``en``, the account's language
=================================  =============================================================
"""

from __future__ import annotations

from engine.store.models_applicants import Applicant


def prefill(row: Applicant) -> dict:
    business = row.kind == "business"
    values = {
        "kind": row.kind,
        "email": row.email,
        "name": row.company_name if business else row.name,
        "name_kana": row.company_name_kana if business else row.name_kana,
        "birth_date": row.birth_date.isoformat() if row.birth_date and not business else None,
        "postcode": row.postcode,
        "address": row.address,
        "phone": row.phone,
    }
    if business:
        values.update(corporate_number=row.corporate_number, representative=row.representative,
                      contact_person=row.name, contact_person_kana=row.name_kana)
    return {"applicant": {k: v for k, v in values.items() if v}, "language": row.language}
