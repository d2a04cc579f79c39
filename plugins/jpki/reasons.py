"""What a clerk reads when a signature is refused (or accepted), in English and Japanese.

Every outcome has a stable ``code`` (kept in the result's details, for screens and process
conditions) and one sentence per language that says what is wrong and, where it helps,
what to do about it. Dates are shown in Japan time, because that is the clerk's calendar
(a certificate that "expires on 2025-03-31" expires at 23:59:59 JST, 14:59:59 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")

_MESSAGES: dict[str, tuple[str, str]] = {
    "valid": (
        "the signature is valid (signed by {subject})",
        "署名は有効です（署名者: {subject}）"),
    "valid_revocation_unchecked": (
        "the signature is valid (signed by {subject}), but the certificate's revocation status could "
        "not be checked: {detail}",
        "署名は有効です（署名者: {subject}）。ただし電子証明書の失効状況は確認できていません: {detail}"),
    "no_signature": (
        "no signature was submitted",
        "署名が提出されていません"),
    "malformed": (
        "the signature could not be read as a CMS/PKCS#7 signature ({detail}); ask the applicant to sign again",
        "署名をCMS/PKCS#7署名として読み取れません（{detail}）。申請者に署名のやり直しを依頼してください"),
    "unsupported": (
        "the signature uses a form this verifier does not accept: {detail}",
        "この署名の形式には対応していません: {detail}"),
    "unverifiable": (
        "the signature could not be verified ({detail}); ask the applicant to sign again",
        "署名を検証できませんでした（{detail}）。申請者に署名のやり直しを依頼してください"),
    "no_signer_certificate": (
        "the signature does not include the signer's certificate, so the signer cannot be identified",
        "署名に署名者の電子証明書が含まれていないため、署名者を確認できません"),
    "weak_algorithm": (
        "the signature uses the weak algorithm {algorithm}, which is no longer accepted",
        "署名に安全性の低いアルゴリズム（{algorithm}）が使われているため受け付けられません"),
    "unreadable_data": (
        "the submitted data cannot be put into the signed (canonical) form: {detail}",
        "提出データを署名対象の形式（正規化形式）に変換できません: {detail}"),
    "tampered": (
        "the signed data does not match what was submitted (tampered, or a different document was signed)",
        "署名された内容と提出された内容が一致しません（改ざん、または別の内容への署名です）"),
    "bad_signature": (
        "the signature value does not verify with the signer's certificate (the signature was altered)",
        "署名値が署名者の電子証明書で検証できません（署名が改変されています）"),
    "untrusted": (
        "the signer's certificate does not chain to a configured trust anchor (issuer: {issuer}){hint}",
        "署名者の電子証明書が、信頼する認証局（トラストアンカー）につながりません（発行者: {issuer}）{hint_ja}"),
    "invalid_chain": (
        "the signer's certificate chain is not valid: {detail}",
        "署名者の電子証明書の証明書チェーンが正しくありません: {detail}"),
    "expired": (
        "the certificate expired on {date}; the applicant must renew it (e.g. at the city office) and sign again",
        "電子証明書の有効期限が{date}に切れています。電子証明書を更新してから署名し直す必要があります"),
    "ca_expired": (
        "the certificate of the issuing CA ({subject}) expired on {date}",
        "発行元認証局の電子証明書（{subject}）の有効期限が{date}に切れています"),
    "not_yet_valid": (
        "the certificate is not valid until {date}",
        "電子証明書の有効期間が始まっていません（{date}から有効）"),
    "ca_not_yet_valid": (
        "the certificate of the issuing CA ({subject}) is not valid until {date}",
        "発行元認証局の電子証明書（{subject}）の有効期間が始まっていません（{date}から有効）"),
    "key_usage": (
        "the certificate is not for signatures (key usage: {usage}; {required} required) — "
        "perhaps the login certificate (利用者証明用) was used instead of the signing one (署名用)",
        "署名用の電子証明書ではありません（鍵用途: {usage}。{required} が必要）。"
        "署名用電子証明書ではなく利用者証明用電子証明書が使われた可能性があります"),
    "revoked": (
        "the certificate was revoked on {date} (reason: {revocation_reason})",
        "電子証明書は{date}に失効しています（理由: {revocation_reason}）"),
    "ca_revoked": (
        "the certificate of the issuing CA ({subject}) was revoked on {date} (reason: {revocation_reason})",
        "発行元認証局の電子証明書（{subject}）は{date}に失効しています（理由: {revocation_reason}）"),
    "revocation_unknown": (
        "revocation status unknown: {detail}; the signature cannot be accepted until it can be checked",
        "電子証明書の失効状況を確認できません: {detail}。確認できるまで署名を受け付けられません"),
}


def describe(code: str, **params) -> tuple[str, str]:
    """(English, Japanese) sentences for ``code``; datetimes are shown as JST dates."""
    shown = {k: _show(v) for k, v in params.items()}
    shown.setdefault("hint", "")
    shown.setdefault("hint_ja", "")
    english, japanese = _MESSAGES[code]
    return english.format(**shown), japanese.format(**shown)


def _show(value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(JST).strftime("%Y-%m-%d")
    return "unknown" if value is None else str(value)
