"""PAdES B-B signatures of certificate PDFs (pyHanko), made once, when a certificate is issued.

The signature is an incremental update of the rendered PDF (the unsigned bytes stay intact
before it), with a visible line "Digitally signed by <subject>" at the bottom of the page.
Everything that would vary between two signings is fixed so that the same PDF, key and time
give the same bytes: the signing time is the issue time (CMS ``signingTime``, the signature
dictionary's ``/M``, the visible line, the document's ``/ModDate``), the second half of the
document ``/ID`` is derived from the unsigned bytes, and keys are RSA (PKCS#1 v1.5 signatures
are deterministic).
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from trainingmgr.credentials import keys
from trainingmgr.credentials.keys import PdfKey

FIELD_NAME = "Signature1"
# Centred under the border of the A4 landscape page (points; the page is 842 x 595).
STAMP_BOX = (221, 5, 621, 21)


class _FixedWriter(IncrementalPdfFileWriter):
    """An incremental writer whose new ``/ID`` half and ``/ModDate`` are fixed."""

    fixed_time: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    fixed_id: bytes = b""

    @classmethod
    def _handle_id(cls, prev: Any) -> Any:
        ids = super()._handle_id(prev)
        ids[1] = generic.ByteStringObject(cls.fixed_id)
        return ids

    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is not None:
            info = self._info.get_object()
            if "/ModDate" in info:
                info["/ModDate"] = generic.pdf_date(self.fixed_time)


class _FixedTimeSigner(signers.PdfSigner):
    def __init__(self, *args: Any, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._signing_time
        return session


@dataclass(frozen=True)
class Signer:
    key_id: int
    key: PdfKey


def current_signer() -> Signer | None:
    """The organisation's current PDF signing key, or None when none is set up (certificates
    are then issued unsigned, as before)."""
    current = keys.current_key()
    if current is None:
        return None
    return Signer(current.id, keys.pdf_key(current))


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's signer with the private key kept loaded: ``SimpleSigner`` parses it again
    (with ``cryptography``'s costly RSA checks) for every signature, twice per PDF."""

    def __init__(self, *args: Any, private_key: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15" or not isinstance(self._private_key, rsa.RSAPrivateKey):
            return super().sign_raw(data, digest_algorithm)
        return self._private_key.sign(
            data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
        )


def _signer(key: PdfKey) -> signers.SimpleSigner:
    der_key = key.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    certs = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in key.certificates
    ]
    store = SimpleCertificateStore()
    store.register_multiple(certs[1:])
    return _LoadedKeySigner(
        private_key=key.private_key,
        signing_cert=certs[0],
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=store,
    )


def sign_pdf(data: bytes, key: PdfKey, signed_at: datetime) -> bytes:
    """``data`` (an unsigned certificate PDF) signed with ``key`` at ``signed_at``."""
    signed_at = signed_at.astimezone(UTC).replace(microsecond=0)
    writer_cls = type(
        "_Writer",
        (_FixedWriter,),
        {"fixed_time": signed_at, "fixed_id": hashlib.sha256(data).digest()[:16]},
    )
    writer = writer_cls(BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=key.subject,
    )
    style = TextStampStyle(
        stamp_text="Digitally signed by %(signer)s · %(ts)s",
        timestamp_format="%Y-%m-%d %H:%M UTC",
        text_box_style=TextBoxStyle(font_size=7),
        border_width=0,
        background=None,
    )
    pdf_signer = _FixedTimeSigner(
        meta,
        signer=_signer(key),
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME, box=STAMP_BOX),
        signing_time=signed_at,
    )
    out = BytesIO()
    _run(
        pdf_signer.async_sign_pdf(
            writer, output=out, appearance_text_params={"signer": key.subject}
        )
    )
    return out.getvalue()


def _run(coroutine: Any) -> Any:
    """Run pyHanko's coroutine; in a thread of its own when this thread already runs an event
    loop (pyHanko's synchronous API calls ``asyncio.run``, which refuses to nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
