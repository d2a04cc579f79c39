"""The fast paths of :mod:`engine.issuance.seal`: the CMS built from DER parts cached per key must be
exactly what pyHanko builds, must carry each key's own signing-certificate-v2, and must fall back to
pyHanko whenever it does not apply; ``seal()`` keeps one event loop per thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
from io import BytesIO

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.attributes import SigningTimeProvider
from pyhanko.sign.general import check_ess_certid, find_unique_cms_attribute
from pyhanko.sign.signers.pdf_cms import CAdESSignedAttributeProviderSpec, PdfCMSSignedAttributes
from pyhanko.sign.timestamps import DummyTimeStamper

from engine.issuance.pki import build_dev_pki
from engine.issuance.seal import CachedKeySigner, Sealer
from engine.issuance.signature_check import check_signature
from tests.engine.issuance.sealing_support import make_pdf, sealer_for
from tests.engine.issuance.tsa_server import tsa_certificate


@pytest.fixture(scope="module")
def pki():
    return build_dev_pki()


def _stock_cms(signer, digest: bytes, md: str, timestamper=None) -> bytes:
    """What pyHanko's own ``Signer.async_sign`` makes for this signer (same key, same certificates)."""
    settings = PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC))
    return asyncio.run(signers.Signer.async_sign(
        signer, digest, md, use_pades=True, signed_attr_settings=settings, timestamper=timestamper)).dump()


def _fast_cms(signer, digest: bytes, md: str, timestamper=None) -> bytes:
    settings = PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC))
    return asyncio.run(signer.async_sign(
        digest, md, use_pades=True, signed_attr_settings=settings, timestamper=timestamper)).dump()


class CannedTimeStamper(DummyTimeStamper):
    """The same token for the same signature (a fresh request would carry a fresh nonce)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tokens: dict[bytes, cms.ContentInfo] = {}

    async def async_timestamp(self, message_digest, md_algorithm):
        if message_digest not in self.tokens:
            self.tokens[message_digest] = await super().async_timestamp(message_digest, md_algorithm)
        return self.tokens[message_digest]


def _signer_info(pdf: bytes) -> tuple[cms.SignedData, cms.SignerInfo]:
    [embedded] = PdfFileReader(BytesIO(pdf)).embedded_signatures
    signed_data = embedded.signed_data
    return signed_data, signed_data["signer_infos"][0]


def _leaf(issuer_ca, public_key, name: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_ca.certificate.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .sign(issuer_ca.key, hashes.SHA256()))


@pytest.mark.parametrize("md", ["sha256", "sha384", "sha512"])
def test_fast_cms_is_byte_for_byte_what_pyhanko_builds_rsa(pki, md):
    signer = sealer_for(pki).signer
    digest = hashlib.new(md, b"document").digest()
    assert _fast_cms(signer, digest, md) == _stock_cms(signer, digest, md)
    # and again, from the cached parts
    other = hashlib.new(md, b"another document").digest()
    assert _fast_cms(signer, other, md) == _stock_cms(signer, other, md)


def test_fast_cms_with_a_time_stamp_token_is_what_pyhanko_builds(pki):
    tsa = tsa_certificate(pki)
    stamper = CannedTimeStamper(
        tsa_cert=translate_pyca_cryptography_cert_to_asn1(tsa.certificate),
        tsa_key=translate_pyca_cryptography_key_to_asn1(tsa.key),
        certs_to_embed=[translate_pyca_cryptography_cert_to_asn1(pki.issuing_ca.certificate)])
    signer = sealer_for(pki).signer
    digest = hashlib.sha256(b"document").digest()
    fast = _fast_cms(signer, digest, "sha256", stamper)
    assert fast == _stock_cms(signer, digest, "sha256", stamper)
    [token] = cms.ContentInfo.load(fast)["content"]["signer_infos"][0]["unsigned_attrs"]
    assert token["type"].native == "signature_time_stamp_token"


def test_fast_cms_matches_pyhanko_for_ed25519_and_ecdsa(pki):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_signer = Sealer.from_key(ed_key, _leaf(pki.issuing_ca, ed_key.public_key(), "ed"), pki.chain).signer
    assert isinstance(ed_signer, CachedKeySigner)
    digest = hashlib.sha512(b"document").digest()
    assert _fast_cms(ed_signer, digest, "sha512") == _stock_cms(ed_signer, digest, "sha512")

    # ECDSA signatures are randomised: everything but the signature value must match.
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_signer = Sealer.from_key(ec_key, _leaf(pki.issuing_ca, ec_key.public_key(), "ec"), pki.chain).signer
    digest = hashlib.sha256(b"document").digest()
    fast = cms.ContentInfo.load(_fast_cms(ec_signer, digest, "sha256"))
    stock = cms.ContentInfo.load(_stock_cms(ec_signer, digest, "sha256"))
    for info in (fast, stock):
        info["content"]["signer_infos"][0]["signature"] = b""
    assert fast.dump(force=True) == stock.dump(force=True)


def test_cached_attribute_path_validates_and_names_each_sealers_own_certificate(pki):
    other_pki = build_dev_pki("他市")
    first, second = sealer_for(pki), sealer_for(other_pki)
    results = []
    # Interleaved, so a value cached by one sealer would show up in the other's signature.
    for sealer, roots in ((first, pki), (second, other_pki), (first, pki), (second, other_pki)):
        sealed = sealer.seal(make_pdf(), reason="発行", document_id="R08-000001")
        check = check_signature(sealed, [roots.root.certificate])
        assert check.status == "valid", check.reasons
        signed_data, signer_info = _signer_info(sealed)
        certid = find_unique_cms_attribute(signer_info["signed_attrs"], "signing_certificate_v2")["certs"][0]
        assert check_ess_certid(sealer.signer.signing_cert, certid)
        assert certid["hash_algorithm"]["algorithm"].native == "sha256"
        sid = signer_info["sid"].chosen
        assert sid["serial_number"].native == sealer.certificate.serial_number
        embedded = {c.chosen.dump() for c in signed_data["certificates"]}
        assert embedded == {sealer.signer.signing_cert.dump(), *(c.dump() for c in sealer.signer.cert_registry
                                                                  if c.self_signed == "no")}
        results.append(certid["cert_hash"].native)
    assert results[0] == results[2] != results[1] == results[3]
    assert check_signature(first.seal(make_pdf(), reason="x"), [other_pki.root.certificate]).status == "untrusted"


def test_signed_attributes_are_the_pades_b_b_set(pki):
    sealed = sealer_for(pki).seal(make_pdf(), reason="発行")
    signed_data, signer_info = _signer_info(sealed)
    types = [attr["type"].native for attr in signer_info["signed_attrs"]]
    assert sorted(types) == ["content_type", "message_digest", "signing_certificate_v2"]
    assert signer_info["unsigned_attrs"].native is None
    assert signed_data["version"].native == "v1" and signer_info["version"].native == "v1"
    assert "signing_time" not in types  # PAdES forbids it; the time is /M in the signature dictionary


def test_what_the_fast_path_does_not_cover_goes_to_pyhanko(pki):
    sealer = sealer_for(pki)
    pdf = make_pdf()
    # No reserve: pyHanko's dry run sizes the hole (the retry path after "larger than expected").
    sized = asyncio.run(sealer._sign(pdf, "x", None, None, None))
    assert check_signature(sized, [pki.root.certificate]).status == "valid"
    # A custom signed-attribute spec is honoured, not bypassed.
    custom = sealer_for(pki)
    signing_time = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)

    class WithSigningTime(CAdESSignedAttributeProviderSpec):
        def signed_attr_providers(self, data_digest, digest_algorithm):
            yield from super().signed_attr_providers(data_digest, digest_algorithm)
            yield SigningTimeProvider(signing_time)

    custom.signer.signed_attr_prov_spec = WithSigningTime(
        PdfCMSSignedAttributes(), custom.signer.signing_cert, is_pades=True, timestamper=None)
    _, signer_info = _signer_info(custom.seal(pdf, reason="x"))
    assert find_unique_cms_attribute(signer_info["signed_attrs"], "signing_time").native == signing_time


def test_seal_keeps_one_loop_per_thread_and_refuses_a_running_loop(pki):
    sealer = sealer_for(pki)
    pdf = make_pdf()
    sealer.seal(pdf, reason="x")
    from engine.issuance import seal as seal_module

    loop = seal_module._thread_loops.holder.loop
    sealer.seal(pdf, reason="x")
    assert seal_module._thread_loops.holder.loop is loop and not loop.is_running()

    outcomes: list[str] = []

    def work():
        check = check_signature(sealer.seal(pdf, reason="x"), [pki.root.certificate])
        outcomes.append(check.status)
        outcomes.append("own loop" if seal_module._thread_loops.holder.loop is not loop else "shared loop")

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["own loop"] * 3 + ["valid"] * 3

    async def inside_a_loop():
        with pytest.raises(RuntimeError, match="async_seal"):
            sealer.seal(pdf, reason="x")
        return await sealer.async_seal(pdf, reason="x")

    assert check_signature(asyncio.run(inside_a_loop()), [pki.root.certificate]).status == "valid"
