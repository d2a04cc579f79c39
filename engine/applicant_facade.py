"""Applicant accounts: registration, verification, password reset, profile, My Page.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here). Mails go out through ``Engine.notify`` on
the ``mail`` channel (templates ``account_verification``, ``account_exists``,
``password_reset`` of the mail plugin), so they leave only if the step commits.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine.applicants import accounts, filings
from engine.applicants.accounts import ApplicantAccount, account_of
from engine.applicants.filings import FiledApplication
from engine.applicants.prefill import prefill
from engine.errors import BadInput
from engine.store.models_applicants import Applicant

#: The channel account mails go through (the built-in mail plugin's notifier).
MAIL_CHANNEL = "mail"


class ApplicantFacade:
    """Applicant accounts: registration, verification, password reset, profile, My Page."""

    def _send_account_mail(self, session: Session, recipient: str, template: str, data: dict, language: str) -> None:
        self.notify(session, MAIL_CHANNEL, recipient=recipient, template=template, data=data, language=language)

    # -- accounts -------------------------------------------------------------------------------

    def register_applicant(self, session: Session, *, email: str, password: str, kind: str, profile: dict,
                           language: str, verify_link: Callable[[str], str]) -> None:
        """Self-registration: queue a verification mail (or, for a taken address, a mail to its
        owner). Raises ``ProfileInvalid`` naming each bad field; never says the address is taken."""
        accounts.register(session, email=email, password=password, kind=kind, profile=profile, language=language,
                          send=self._send_account_mail, verify_link=verify_link)

    def add_applicant(self, session: Session, *, email: str, password: str, kind: str, profile: dict,
                      language: str = "ja", actor: str | None = None) -> ApplicantAccount:
        """An account created by an operator (CLI, demo): its address counts as confirmed."""
        return account_of(accounts.create(session, email=email, password=password, kind=kind, profile=profile,
                                          language=language, verified=True, actor=actor))

    def resend_verification(self, session: Session, applicant_id: int, *, verify_link: Callable[[str], str]) -> None:
        row = accounts.get(session, applicant_id)
        if row.email_verified_at is None:
            accounts.send_verification(session, row, send=self._send_account_mail, verify_link=verify_link)

    def verify_applicant_email(self, session: Session, token: str) -> ApplicantAccount | None:
        """Use a verification link up; None when it is unknown, expired or already used."""
        row = accounts.verify_email(session, token)
        return account_of(row) if row else None

    def authenticate_applicant(self, session: Session, email: str, password: str) -> ApplicantAccount | None:
        row = accounts.authenticate(session, email, password)
        return account_of(row) if row else None

    def applicant(self, session: Session, applicant_id: int) -> ApplicantAccount | None:
        row = session.get(Applicant, applicant_id)
        return account_of(row) if row else None

    def applicants(self, session: Session, *, limit: int = 100, offset: int = 0) -> list[ApplicantAccount]:
        return [account_of(row) for row in accounts.all_accounts(session, limit=limit, offset=offset)]

    def request_applicant_password_reset(self, session: Session, email: str, *,
                                         reset_link: Callable[[str], str]) -> None:
        """Queue a reset mail if an account has ``email``; the same silence otherwise."""
        accounts.request_password_reset(session, email, send=self._send_account_mail, reset_link=reset_link)

    def applicant_reset_link_is_usable(self, session: Session, token: str) -> bool:
        return accounts.reset_link_is_usable(session, token)

    def reset_applicant_password(self, session: Session, token: str, password: str) -> ApplicantAccount | None:
        """Set the password through a reset link (ending every other session); None for a bad link."""
        row = accounts.reset_password(session, token, password)
        return account_of(row) if row else None

    def change_applicant_password(self, session: Session, applicant_id: int, current: str,
                                  new: str) -> ApplicantAccount:
        return account_of(accounts.change_password(session, applicant_id, current, new))

    def update_applicant_profile(self, session: Session, applicant_id: int, values: dict, *,
                                 language: str | None = None) -> ApplicantAccount:
        return account_of(accounts.update_profile(session, applicant_id, values, language=language))

    def applicant_prefill(self, session: Session, applicant_id: int) -> dict:
        """The profile under the conventional form field names (see :mod:`engine.applicants.prefill`):
        ``{"applicant": {"kind", "email", "name", "name_kana", "birth_date", "postcode", "address",
        "phone", "corporate_number", "representative", "contact_person", "contact_person_kana"},
        "language"}`` — empty fields left out."""
        return prefill(accounts.get(session, applicant_id))

    # -- applications ---------------------------------------------------------------------------

    def start_for_applicant(self, session: Session, key: str, applicant_id: int, data: dict | None):
        """Start an application of ``key`` filed by the applicant (``Engine.start`` with actor
        ``applicant:<id>``) and record it as theirs. Only a confirmed address may file."""
        row = accounts.get(session, applicant_id)
        if row.email_verified_at is None:
            raise BadInput(f"applicant {applicant_id} has not confirmed their e-mail address yet")
        result = self.start(session, key, data=data, actor=f"applicant:{applicant_id}")
        filings.link(session, result.application.id, applicant_id)
        return result

    def applicant_applications(self, session: Session, applicant_id: int, *, limit: int = 20,
                               offset: int = 0) -> list[FiledApplication]:
        """My Page: the applicant's applications, newest first, with their public status only."""
        return filings.listed(session, applicant_id, limit=limit, offset=offset)

    def applicant_application_count(self, session: Session, applicant_id: int) -> int:
        return filings.count(session, applicant_id)

    def applicant_application(self, session: Session, applicant_id: int, application_id: int) -> FiledApplication:
        """One of the applicant's applications; ``NotFound`` for anyone else's, exactly as for none."""
        return filings.one(session, applicant_id, application_id)

    def application_owner(self, session: Session, application_id: int) -> int | None:
        """The applicant who filed the application, or None (filed by staff, API or intake)."""
        return filings.owner_of(session, application_id)

    # -- applying on line: forms, drafts, returns, withdrawal, documents (docs/portal.md) ---------

    def applicant_start_form(self, session: Session, key: str):
        """The start form of procedure ``key`` (``application_form.ApplicantForm``: the form its plain
        start event names with ``formKey``, with its UI schema), or None when it names none."""
        from engine.applicants.application_form import form_of
        from engine.applicants.start_form import start_form_key

        definition = self.catalog.latest(session, key)
        form_key = start_form_key(self.catalog.compiled(session, definition).spec)
        return form_of(self.catalog.files(session, definition.id), form_key) if form_key else None

    def applicant_task_form(self, session: Session, application_id: int, form_key: str):
        """The form ``form_key`` of the version the application runs (for a correction)."""
        from engine.applicants.application_form import form_of

        application = self.applications.get(session, application_id)
        return form_of(self.catalog.files(session, application.definition_id), form_key)

    def applicant_file(self, session: Session, key: str, applicant_id: int | None, data: dict):
        """Start an application from the portal: the profile goes along as ``applicant`` (so that
        mails reach the applicant), and without an account (a procedure of identity level
        "none") the application is started by ``portal:anonymous``."""
        if applicant_id is None:
            return self.start(session, key, data=data, actor="portal:anonymous")
        return self.start_for_applicant(session, key, applicant_id, {**self.applicant_prefill(session, applicant_id),
                                                                     **data})

    def applicant_save_draft(self, session: Session, applicant_id: int, key: str, data: dict,
                             draft_id: int | None = None):
        from engine.applicants import drafts

        return drafts.save(session, applicant_id, key, data, draft_id)

    def applicant_draft(self, session: Session, applicant_id: int, draft_id: int):
        """One of the applicant's drafts; NotFound for anyone else's, exactly as for none."""
        from engine.applicants import drafts

        return drafts.one(session, applicant_id, draft_id)

    def applicant_drafts(self, session: Session, applicant_id: int) -> list:
        from engine.applicants import drafts

        return drafts.listed(session, applicant_id)

    def applicant_delete_draft(self, session: Session, applicant_id: int, draft_id: int) -> None:
        from engine.applicants import drafts

        drafts.remove(session, applicant_id, draft_id)

    def applicant_correction(self, session: Session, applicant_id: int, application_id: int):
        """What the office asked the applicant to correct (``resubmission.Correction``) or None."""
        from engine.applicants import resubmission

        return resubmission.correction(self, session, applicant_id, application_id)

    def applicant_resubmit(self, session: Session, applicant_id: int, application_id: int, data: dict,
                           fields: list[str]):
        """Send the corrected application back (the same application), recording what changed."""
        from engine.applicants import resubmission

        return resubmission.resubmit(self, session, applicant_id, application_id, data, fields)

    def applicant_resubmissions(self, session: Session, applicant_id: int, application_id: int) -> list:
        from engine.applicants import resubmission

        return resubmission.history(session, applicant_id, application_id)

    def applicant_can_withdraw(self, session: Session, applicant_id: int, application_id: int) -> bool:
        from engine.applicants import withdrawal

        return withdrawal.can_withdraw(self, session, applicant_id, application_id)

    def applicant_withdraw(self, session: Session, applicant_id: int, application_id: int, reason: str):
        """取下げ: end the application as ``withdrawn`` where its procedure allows it."""
        from engine.applicants import withdrawal

        return withdrawal.withdraw(self, session, applicant_id, application_id, reason)

    def applicant_documents(self, session: Session, applicant_id: int, application_id: int) -> list:
        """The documents issued for one of the applicant's applications (NotFound if not theirs)."""
        filings.one(session, applicant_id, application_id)
        return [d for d in self.issued_documents(session, application_id=application_id)
                if d.status in ("issued", "revoked")]

    def applicant_download_document(self, session: Session, applicant_id: int, public_id: str):
        """(document, stream) of a document of the applicant's own application; the download is
        recorded on the ``portal`` channel. NotFound for anyone else's document."""
        from engine.errors import NotFound

        document = self.issued_document(session, public_id)
        if filings.owner_of(session, document.application_id) != applicant_id:
            raise NotFound(f"no document {public_id}")
        return self.download_document(session, public_id, actor=f"applicant:{applicant_id}", channel="portal")

    # -- what submitting asks for: JPKI signature, fees (docs/portal.md "Identity", "Payment") ----

    def submission_requirements(self, session: Session, key: str) -> dict:
        """``{"identity": "none"|"account"|"jpki", "fee": {"amount", "when": "submission"|"after_review"|None}}``
        of procedure ``key`` (engine.submission_requirements)."""
        from engine.submission_requirements import submission_requirements

        return submission_requirements(session, self.catalog, key)

    def applicant_signed_bytes(self, key: str, data: dict) -> bytes:
        """The exact bytes the applicant signs with JPKI for submitting ``data`` to ``key``."""
        from engine.applicant_signing import signed_bytes

        return signed_bytes(key, data)

    def development_signer_available(self) -> bool:
        """Whether the demo's development card may sign (never with MADOGUCHI_ENVIRONMENT=production)."""
        from engine.jpki_development_signer import development_signer_allowed

        return development_signer_allowed()

    def applicant_development_signature(self, session: Session, applicant_id: int, key: str, data: dict) -> bytes:
        """DEVELOPMENT ONLY: a signature by the applicant's development card (refused in production)."""
        from engine.applicant_signing import development_signature

        return development_signature(self, applicant_id, account_of(accounts.get(session, applicant_id)).display_name
                                     or f"applicant {applicant_id}", key, data)

    def applicant_file_signed(self, session: Session, key: str, applicant_id: int, data: dict, signature: bytes):
        """File after checking the applicant's JPKI signature over the submission; raises
        ``SignatureRefused`` (code, reason, reason_ja) with nothing filed."""
        from engine.applicant_signing import file_signed

        return file_signed(self, session, key, applicant_id, data, signature)

    def applicant_payments(self, session: Session, applicant_id: int, application_id: int | None = None) -> list:
        """The applicant's payments (``ApplicantPayment``), of one application when given."""
        from engine import applicant_payments

        return applicant_payments.of_applicant(session, applicant_id, application_id=application_id)

    def applicant_payments_due(self, session: Session, applicant_id: int) -> list:
        from engine import applicant_payments

        return applicant_payments.due(session, applicant_id)

    def applicant_payment(self, session: Session, applicant_id: int, reference: str):
        """One of the applicant's payments; NotFound for anyone else's, exactly as for none."""
        from engine import applicant_payments

        return applicant_payments.one(session, applicant_id, reference)

    def receipt_payments(self, session: Session, application_reference: str) -> list:
        """The payments of an application filed without an account (shown from its receipt)."""
        from engine import applicant_payments

        return applicant_payments.of_application_reference(session, application_reference)

    def payment_callback(self, session: Session, provider: str, body: bytes, headers: dict):
        """A provider's callback (engine.payments.handle_callback): CallbackRefused, NotFound or the event."""
        from engine.payments import handle_callback

        return handle_callback(self, session, provider, body, headers)
