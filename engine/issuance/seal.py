"""Seal an issued PDF with the organisation's e-seal (電子公印): a PAdES certification signature.

The signature is PAdES B-B (B-T when a time-stamp authority is configured), in an invisible field
(the visible 公印 is drawn in the page by the renderer), and it *certifies* the document with DocMDP
"no changes", so any later revision is a change a verifier must flag.

Throughput: pyHanko's stock ``SimpleSigner`` parses the DER private key on every signature (~48 ms
for RSA-2048) and, without ``bytes_reserved``, makes a full dry-run signature to size the
``/Contents`` hole. The signer here keeps the parsed key, and the reserve is computed once from the
real chain, which brings one seal from ~165 ms to ~25–30 ms (tests/engine/issuance/seal_speed.py).
Most of what remained was asn1crypto building and re-encoding the same CMS structures for every
document; :meth:`CachedKeySigner.async_sign` encodes the parts that depend only on the key once and
joins DER bytes per document (byte for byte what pyHanko builds, see test_seal_speed_paths.py), and
sealing reuses one event loop per thread instead of ``asyncio.run``: ~5 ms CPU per seal, most of it
pyHanko reading and writing the PDF.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from engine.errors import BadInput, MadoguchiError
from engine.issuance.seal_settings import SealSettings, SealSettingsError

#: Name of the signature field; verifiers need not know it, it only makes the file readable.
SEAL_FIELD = "MadoguchiSeal"
#: The Info dictionary key the document number is kept under (the renderer writes it too).
DOCUMENT_ID_KEY = "/MadoguchiDocumentId"
#: Room for the CMS structure around the certificates and the signature value (attributes,
#: algorithm identifiers, issuer names); measured ~1.3 KB for RSA-2048, doubled for safety.
CMS_OVERHEAD = 3072
#: Room for an RFC 3161 token: the TSA's signature, its certificate(s) and attributes. Real TSAs
#: embed 2–7 KB; if one embeds more, sealing retries once with pyHanko's own estimate.
TIMESTAMP_ALLOWANCE = 12288
TSA_TIMEOUT_SECONDS = 10
CACHED_SEALERS = 8


class SealUnavailable(MadoguchiError):
    """The seal key or certificate cannot be loaded, or signing failed (exit code 1)."""


class TimestampUnavailable(MadoguchiError):
    """The time-stamp authority did not answer usefully; nothing was sealed (exit code 1)."""

    retryable = True

    def __init__(self, url: str, detail: str):
        self.url = url
        super().__init__(f"time-stamp authority {url} failed: {detail}; the document was not sealed")


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that signs with a key object parsed once, instead of once per signature."""

    def __init__(self, private_key, signing_cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]):
        super().__init__(
            signing_cert=signing_cert,
            signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
            cert_registry=SimpleCertificateStore.from_certs(chain),
            # A verifier must reach the root through its own trust list, never through the file.
            embed_roots=False,
        )
        self._private_key = private_key
        self._parts: dict[str, _CmsParts] = {}
        # (ids of the certificates, the certificates themselves, their [0] IMPLICIT SET OF encoding)
        self._certs: tuple[tuple, list, bytes] = ((), [], b"")

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), _hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(_hash(digest_algorithm)))
        if mechanism in ("ed25519", "ed448") and isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            return key.sign(data)
        # Anything rarer (RSASSA-PSS) goes through pyHanko's own, slower path.
        return super().sign_raw(data, digest_algorithm)

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False, use_pades=False,
                         timestamper=None, signed_attr_settings=None, is_pdf_sig=True,
                         encap_content_info=None, **other) -> cms.ContentInfo:
        """The CMS SignedData for a PAdES signature, from DER parts encoded once per key.

        Byte for byte what pyHanko's ``Signer.async_sign`` builds (signed attributes content-type,
        message-digest and signing-certificate-v2; one SignerInfo; the chain without roots), but
        without asn1crypto constructing, copying and re-encoding the same certificates, names and
        attributes for every document (~25 ms of ~30 ms CPU per seal). Anything this path does not
        cover (dry runs, CAdES attribute specs, custom attribute providers, attribute certificates,
        other digests, arguments a later pyHanko may add) goes to pyHanko unchanged.
        Checked against pyHanko 0.38.0 / asn1crypto 1.5.1.
        """
        digest_algorithm = digest_algorithm.lower()
        if (other or dry_run or not use_pades or not is_pdf_sig or encap_content_info is not None
                or digest_algorithm not in _DIGESTS
                or getattr(signed_attr_settings, "cades_signed_attrs", None) is not None
                or getattr(self, "signed_attr_prov_spec", None) is not None
                or self.attribute_certs or self.signing_cert is None):
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades, timestamper=timestamper,
                signed_attr_settings=signed_attr_settings, is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info, **other)
        # Semi-internal in pyHanko 0.38 (what async_sign_prescribed_attributes calls first): the signature
        # mechanism must not imply another digest (Ed25519 is SHA-512 only). Skipped if it goes away.
        check_digest = getattr(self, "_check_digest_algorithm", None)
        if check_digest is not None:
            check_digest(digest_algorithm)
        parts = self._cms_parts(digest_algorithm)
        signed_attrs = _der_set([parts.content_type_attr, parts.signing_certificate_attr,
                                 _der(0x30, _MESSAGE_DIGEST_OID + _der(0x31, _der(0x04, data_digest)))])
        signature = await self.async_sign_raw(signed_attrs, digest_algorithm)
        unsigned = b""
        if timestamper is not None or getattr(self, "unsigned_attr_prov_spec", None) is not None:
            # The signature time-stamp (B-T): pyHanko's own providers, encoded once per document anyway.
            attrs = await self.unsigned_attrs(digest_algorithm, signature, timestamper=timestamper,
                                              signed_attrs=cms.CMSAttributes.load(signed_attrs))
            if attrs is not None:
                unsigned = b"\xa1" + attrs.dump()[1:]  # SET OF -> [1] IMPLICIT
        signer_info = _der(0x30, b"".join((
            _V1, parts.sid, parts.digest_algorithm,
            b"\xa0" + signed_attrs[1:],  # SET OF -> [0] IMPLICIT, same length and content
            parts.signature_algorithm, _der(0x04, signature), unsigned)))
        signed_data = _der(0x30, b"".join((
            _V1, _der(0x31, parts.digest_algorithm), _ENCAP_DATA, self._certificate_set(),
            _der(0x31, signer_info))))
        # Loaded, not constructed: the CMS embedder's dump() returns these very bytes.
        return cms.ContentInfo.load(_der(0x30, _SIGNED_DATA_OID + _der(0xA0, signed_data)))

    def _cms_parts(self, digest_algorithm: str) -> _CmsParts:
        cert = self.signing_cert
        parts = self._parts.get(digest_algorithm)
        if parts is None or parts.certificate is not cert:
            parts = _CmsParts(
                certificate=cert,
                sid=cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": cert.issuer, "serial_number": cert.serial_number})}).dump(),
                digest_algorithm=algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump(),
                signature_algorithm=self.get_signature_mechanism_for_digest(digest_algorithm).dump(),
                content_type_attr=simple_cms_attribute("content_type", "data").dump(),
                # pyHanko always identifies the certificate by SHA-256 here (SigningCertificateV2Provider).
                signing_certificate_attr=simple_cms_attribute(
                    "signing_certificate_v2", as_signing_certificate_v2(cert)).dump(),
            )
            self._parts[digest_algorithm] = parts
        return parts

    def _certificate_set(self) -> bytes:
        """``[0] IMPLICIT SET OF Certificate``: the signer's certificate and the chain, roots left out as
        pyHanko does with ``embed_roots=False``; encoded again only if the registry changes."""
        certs = [self.signing_cert, *self.cert_registry]
        key = tuple(map(id, certs))
        cached_key, _, encoded = self._certs
        if cached_key != key:
            ders: list[bytes] = []
            for cert in certs:
                der = cert.dump()
                if der not in ders and (cert is certs[0] or self.embed_roots or cert.self_signed == "no"):
                    ders.append(der)
            encoded = b"\xa0" + _der_set(ders)[1:]
            # One assignment (threads share the signer); holding the objects keeps their ids from reuse.
            self._certs = (key, certs, encoded)
        return encoded


@dataclass(frozen=True)
class _CmsParts:
    """DER encodings that depend only on the signing certificate and the digest algorithm."""

    certificate: asn1_x509.Certificate
    sid: bytes
    digest_algorithm: bytes
    signature_algorithm: bytes
    content_type_attr: bytes
    signing_certificate_attr: bytes


_DIGESTS = ("sha256", "sha384", "sha512")
_V1 = b"\x02\x01\x01"  # INTEGER 1: CMSVersion v1 (SignedData and SignerInfo)
_SIGNED_DATA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"  # 1.2.840.113549.1.7.2
_ENCAP_DATA = b"\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"  # SEQUENCE { id-data }
_MESSAGE_DIGEST_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x04"  # 1.2.840.113549.1.9.4


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV with a single-byte tag."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_set(encodings: list[bytes]) -> bytes:
    """A DER SET OF: the element encodings in ascending order (X.690 11.6), as asn1crypto sorts them."""
    return _der(0x31, b"".join(sorted(encodings)))


def _hash(digest_algorithm: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[digest_algorithm]


def signature_reserve(signing_cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate], *,
                      with_timestamp: bool) -> int:
    """Hex characters to reserve for ``/Contents``: the CMS holds the certificates, one signature and
    attributes, plus a time-stamp token for B-T. pyHanko's dry-run estimate is avoided on purpose."""
    certificates = len(signing_cert.dump()) + sum(len(c.dump()) for c in chain)
    try:
        key_size = signing_cert.public_key.byte_size
    except (ValueError, UnboundLocalError):  # asn1crypto 1.5.1 has no size for Ed25519/Ed448 (64/114 bytes)
        key_size = 0
    signature = max(512, key_size)
    size = certificates + signature + CMS_OVERHEAD + (TIMESTAMP_ALLOWANCE if with_timestamp else 0)
    return 2 * size


@dataclass(frozen=True)
class _SealKey:
    signer: signers.Signer
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _load_pkcs12(settings: SealSettings) -> _SealKey:
    path = settings.pkcs12_path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SealSettingsError(
            f"no seal at {path} — set MADOGUCHI_SEAL_PKCS12, or run `madoguchi seal init-dev` for a dev seal"
        ) from None
    except OSError as exc:
        raise SealSettingsError(f"cannot read seal {path}: {exc}") from None
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(raw, settings.read_password())
    except ValueError:
        raise SealSettingsError(
            f"cannot open seal {path}: wrong password (MADOGUCHI_SEAL_PASSWORD[_FILE]) or not a PKCS#12 file"
        ) from None
    if key is None or certificate is None:
        raise SealSettingsError(f"seal {path} holds no private key with its certificate")
    # The root is only for verifiers' trust lists; it is not embedded in the signature.
    chain = [c for c in chain if c.subject != c.issuer]
    signer = CachedKeySigner(key, translate_pyca_cryptography_cert_to_asn1(certificate),
                             [translate_pyca_cryptography_cert_to_asn1(c) for c in chain])
    return _SealKey(signer, certificate, tuple(chain))


def _load_pkcs11(settings: SealSettings) -> _SealKey:
    """A key in an HSM. Needs python-pkcs11 (``pip install madoguchi[pkcs11]``); not tested against a token."""
    assert settings.pkcs11 is not None
    try:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11 as pyhanko_pkcs11
    except ImportError:
        raise SealSettingsError(
            "MADOGUCHI_SEAL_PKCS11_MODULE is set but PKCS#11 support is not installed — "
            "install madoguchi[pkcs11] (python-pkcs11)") from None
    hsm = settings.pkcs11
    try:
        session = pyhanko_pkcs11.open_pkcs11_session(
            str(hsm.module), token_criteria=TokenCriteria(label=hsm.token_label), user_pin=hsm.pin)
        # other_certs_to_pull=None: take the intermediates from the token as well.
        signer = pyhanko_pkcs11.PKCS11Signer(session, cert_label=hsm.key_label, key_label=hsm.key_label,
                                             other_certs_to_pull=None, embed_roots=False)
        signing_cert = signer.signing_cert
    except Exception as exc:  # the module, the token and the PIN all fail in their own way
        raise SealUnavailable(f"cannot open PKCS#11 key {hsm.key_label!r} on token {hsm.token_label!r} "
                              f"through {hsm.module}: {exc}") from None
    certificate = x509.load_der_x509_certificate(signing_cert.dump())
    chain = [x509.load_der_x509_certificate(c.dump()) for c in signer.cert_registry
             if c.subject != c.issuer and c.dump() != signing_cert.dump()]
    return _SealKey(signer, certificate, tuple(chain))


def _subject_text(certificate: x509.Certificate, oid) -> str | None:
    attributes = certificate.subject.get_attributes_for_oid(oid)
    return str(attributes[0].value) if attributes else None


class Sealer:
    """Seals PDFs with one key; made once per process and shared (see :meth:`from_settings`)."""

    _cache: dict[tuple, Sealer] = {}
    _cache_lock = threading.Lock()

    def __init__(self, key: _SealKey, *, tsa_url: str | None = None, display_name: str | None = None):
        self._key = key
        self.tsa_url = tsa_url
        self._display_name = display_name
        self._timestamper: TimeStamper | None = (
            HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_SECONDS) if tsa_url else None)
        self._reserve = signature_reserve(
            translate_pyca_cryptography_cert_to_asn1(key.certificate),
            [translate_pyca_cryptography_cert_to_asn1(c) for c in key.chain],
            with_timestamp=tsa_url is not None)

    @classmethod
    def from_settings(cls, seal_settings: SealSettings) -> Sealer:
        """The sealer for these settings, loaded once per process and reused while the key file is unchanged."""
        cache_key = _cache_key(seal_settings)
        with cls._cache_lock:
            sealer = cls._cache.get(cache_key)
            if sealer is None:
                key = _load_pkcs11(seal_settings) if seal_settings.pkcs11 else _load_pkcs12(seal_settings)
                sealer = cls(key, tsa_url=seal_settings.tsa_url, display_name=seal_settings.display_name)
                # A replaced key file makes a new entry; keep only a few rather than grow.
                while len(cls._cache) >= CACHED_SEALERS:
                    cls._cache.pop(next(iter(cls._cache)))
                cls._cache[cache_key] = sealer
            return sealer

    @classmethod
    def from_key(cls, private_key, certificate: x509.Certificate, chain: list[x509.Certificate] = (), *,
                 tsa_url: str | None = None, display_name: str | None = None) -> Sealer:
        """A sealer for a key already in memory (pyca objects); ``chain`` is embedded, roots left out."""
        chain = [c for c in chain if c.subject != c.issuer]
        signer = CachedKeySigner(private_key, translate_pyca_cryptography_cert_to_asn1(certificate),
                                 [translate_pyca_cryptography_cert_to_asn1(c) for c in chain])
        return cls(_SealKey(signer, certificate, tuple(chain)), tsa_url=tsa_url, display_name=display_name)

    @property
    def certificate(self) -> x509.Certificate:
        return self._key.certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The certificates embedded above the seal certificate (the root is left out)."""
        return self._key.chain

    @property
    def signer(self) -> signers.Signer:
        return self._key.signer

    @property
    def signer_name(self) -> str:
        """The name shown as the sealer: MADOGUCHI_SEAL_NAME, else the certificate's O (or CN)."""
        return (self._display_name
                or _subject_text(self.certificate, NameOID.ORGANIZATION_NAME)
                or _subject_text(self.certificate, NameOID.COMMON_NAME)
                or self.certificate.subject.rfc4514_string())

    def seal(self, pdf: bytes, *, reason: str, location: str | None = None,
             document_id: str | None = None) -> bytes:
        """The sealed PDF. Not usable inside a running event loop: use :meth:`async_seal` there."""
        return _run(self.async_seal(pdf, reason=reason, location=location, document_id=document_id))

    async def async_seal(self, pdf: bytes, *, reason: str, location: str | None = None,
                         document_id: str | None = None) -> bytes:
        try:
            return await self._sign(pdf, reason, location, document_id, self._reserve)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise SealUnavailable(f"sealing failed: {exc}") from exc
        # The TSA (or HSM) answered with more than we reserved: let pyHanko size it this once.
        try:
            return await self._sign(pdf, reason, location, document_id, None)
        except SigningError as exc:
            raise SealUnavailable(f"sealing failed: {exc}") from exc

    async def _sign(self, pdf: bytes, reason: str, location: str | None, document_id: str | None,
                    reserve: int | None) -> bytes:
        writer = _open_pdf(pdf)
        if document_id is not None:
            _set_document_id(writer, document_id)
        metadata = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            name=self.signer_name,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        pdf_signer = signers.PdfSigner(
            metadata, self._key.signer, timestamper=self._timestamper,
            new_field_spec=fields.SigFieldSpec(SEAL_FIELD, on_page=0))
        output = BytesIO()
        try:
            await pdf_signer.async_sign_pdf(writer, output=output, bytes_reserved=reserve)
        except TimestampRequestError as exc:
            raise TimestampUnavailable(self.tsa_url or "?", _cause(exc)) from exc
        except SigningError:
            raise
        except (OSError, TimeoutError) as exc:
            if self.tsa_url:
                raise TimestampUnavailable(self.tsa_url, _cause(exc)) from exc
            raise SealUnavailable(f"sealing failed: {exc}") from exc
        return output.getvalue()


class _ThreadLoop:
    """This thread's event loop for :meth:`Sealer.seal`: ``asyncio.run`` makes (and tears down) a new loop,
    a selector and a self-pipe for every document, ~0.3 ms. Closed when the thread ends."""

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()

    def __del__(self):
        # After a fork the selector is shared with the parent: leave it alone there.
        try:
            if self.pid == os.getpid() and not self.loop.is_closed():
                self.loop.close()
        except Exception:  # interpreter shutdown; nothing to clean up that the OS will not
            pass


_thread_loops = threading.local()


def _run(coroutine):
    """``asyncio.run(coroutine)``, but on a loop kept for this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coroutine.close()
        raise RuntimeError("Sealer.seal() cannot be called from a running event loop; use async_seal()")
    holder = getattr(_thread_loops, "holder", None)
    if holder is None or holder.pid != os.getpid() or holder.loop.is_closed():
        holder = _thread_loops.holder = _ThreadLoop()
    loop = holder.loop
    try:
        return loop.run_until_complete(coroutine)
    finally:
        # As asyncio.run does: nothing started for this document may linger into the next one.
        pending = asyncio.all_tasks(loop)
        if pending:
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _cause(exc: BaseException) -> str:
    """The most telling message of an exception chain (pyHanko wraps the network error)."""
    messages: list[str] = []
    while exc is not None and len(messages) < 4:
        text = str(exc).strip() or type(exc).__name__
        if text not in messages:
            messages.append(text)
        exc = exc.__cause__ or exc.__context__
    return " — ".join(messages) or "no answer"


def _open_pdf(pdf: bytes) -> IncrementalPdfFileWriter:
    if not pdf.startswith(b"%PDF-"):
        raise BadInput("cannot seal: the input is not a PDF file")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        existing = [name for name, _, _ in fields.enumerate_sig_fields(writer.prev, filled_status=True)]
    except Exception as exc:  # pyHanko's parser raises many kinds on a damaged file
        raise BadInput(f"cannot seal: the PDF cannot be read ({exc})") from None
    if existing:
        # A certification signature must come first; sealing twice would also break "no changes".
        raise BadInput(f"cannot seal: the PDF is already signed ({', '.join(existing)})")
    return writer


def _set_document_id(writer: IncrementalPdfFileWriter, document_id: str) -> None:
    """Keep the document number in the Info dictionary of the sealed revision, so the seal covers it."""
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        info_ref = None
    if info_ref is None:
        writer.set_info(generic.DictionaryObject({
            generic.NameObject(DOCUMENT_ID_KEY): generic.TextStringObject(document_id)}))
        return
    info = info_ref.get_object()
    present = info.get(DOCUMENT_ID_KEY)
    if present is not None and str(present) != document_id:
        raise BadInput(f"cannot seal: the PDF says it is document {present}, not {document_id}")
    if present is None:
        info[generic.NameObject(DOCUMENT_ID_KEY)] = generic.TextStringObject(document_id)
        writer.mark_update(info_ref)


def _cache_key(settings: SealSettings) -> tuple:
    if settings.pkcs11:
        source: tuple = ("pkcs11", str(settings.pkcs11.module), settings.pkcs11.token_label,
                         settings.pkcs11.key_label)
    else:
        path = Path(settings.pkcs12_path)
        try:
            stat = path.stat()
            source = ("pkcs12", str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        except OSError:
            source = ("pkcs12", str(path), None, None)
    return (*source, settings.tsa_url, settings.display_name)
