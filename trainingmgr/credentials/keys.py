"""Signing keys: generate one here or upload a PKCS#12, rotate, and use them.

Private keys are stored as encrypted PKCS#8 (``BestAvailableEncryption``: AES-256-CBC, the
password stretched with PBKDF2 by ``cryptography``). The password is derived with HKDF-SHA256
from ``SIGNING_KEY_SECRET`` when set, else from ``SECRET_KEY``: changing that secret makes the
stored keys unusable (signing then fails with a message; nothing already issued changes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import gettext as _

from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.credentials import multibase
from trainingmgr.credentials.models import KeySource, SigningKey
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User

MAX_PKCS12_BYTES = 100_000
GENERATED_YEARS = 10
RSA_BITS = 3072  # RSA PKCS#1 v1.5 signatures are deterministic: reproducible PDFs


class UnreadableKey(DomainError):
    """A signing key cannot be read with the configured secret."""


def _password() -> bytes:
    secret = current_app.config.get("SIGNING_KEY_SECRET") or current_app.config["SECRET_KEY"]
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"trainingmgr signing keys v1"
    ).derive(str(secret).encode())
    return derived.hex().encode()


def _encrypt(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_password()),
    )


def _decrypt(data: bytes) -> Any:
    try:
        return serialization.load_pem_private_key(bytes(data), password=_password())
    except (ValueError, TypeError) as exc:
        raise UnreadableKey(
            _(
                "The signing key cannot be read: SIGNING_KEY_SECRET (or SECRET_KEY) changed "
                "since it was stored. Restore the secret or set up a new key."
            )
        ) from exc


@dataclass(frozen=True)
class PdfKey:
    """What signs PDFs: the private key and the certificates (signing certificate first)."""

    private_key: Any
    certificates: list[x509.Certificate]
    subject: str


def current_key() -> SigningKey | None:
    return db.session.scalars(
        sa.select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id.desc())
    ).first()


def all_keys() -> list[SigningKey]:
    """Every key, newest first (the current one and the retired ones)."""
    return list(db.session.scalars(sa.select(SigningKey).order_by(SigningKey.id.desc())))


def get_key(key_id: int) -> SigningKey | None:
    return db.session.get(SigningKey, key_id)


def pdf_key(key: SigningKey) -> PdfKey:
    certs = x509.load_pem_x509_certificates(key.pdf_certificates.encode())
    return PdfKey(_decrypt(key.pdf_private_key), certs, key.subject)


def ed25519_key(key: SigningKey) -> ed25519.Ed25519PrivateKey:
    return _decrypt(key.ed25519_private_key)


def ed25519_public(key: SigningKey) -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PublicKey.from_public_bytes(
        multibase.public_key_bytes(key.ed25519_public)
    )


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    return cert.subject.rfc4514_string()


def _store(
    source: KeySource, private_key: Any, certs: list[x509.Certificate], *, actor: User
) -> SigningKey:
    now = utcnow()
    previous = current_key()
    if previous is not None:
        previous.retired_at = now
    ed_key = ed25519.Ed25519PrivateKey.generate()
    raw_public = ed_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = SigningKey(
        source=source,
        subject=_common_name(certs[0])[:250],
        pdf_certificates="".join(
            c.public_bytes(serialization.Encoding.PEM).decode() for c in certs
        ),
        pdf_certificate_sha256=hashlib.sha256(
            certs[0].public_bytes(serialization.Encoding.DER)
        ).hexdigest(),
        pdf_not_after=certs[0].not_valid_after_utc,
        pdf_private_key=_encrypt(private_key),
        ed25519_private_key=_encrypt(ed_key),
        ed25519_public=multibase.public_key_multibase(raw_public),
        created_at=now,
        created_by_id=getattr(actor, "id", None),
    )
    audit.record_created(
        "signing_key.create",
        key,
        actor=actor,
        changes={
            "source": source.value,
            "subject": key.subject,
            "certificate_sha256": key.pdf_certificate_sha256,
            **({"replaces": previous.id} if previous is not None else {}),
        },
        summary=key.subject,
    )
    return key


def generate(name: str, *, actor: User) -> SigningKey:
    """A new current key: RSA with a self-signed certificate for ``name`` (valid ten years),
    and a new Ed25519 key. The previous key is retired (kept)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Type the name the signature should show."), "name")
    if len(name) > 200:
        raise DomainError(_("The name is too long (200 characters at most)."), "name")
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * GENERATED_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(private_key, hashes.SHA256())
    )
    return _store(KeySource.GENERATED, private_key, [cert], actor=actor)


def upload_pkcs12(data: bytes | None, password: str | None, *, actor: User) -> SigningKey:
    """A new current key from a PKCS#12 file (key + certificate + chain) and its password.
    Bad file, wrong password, a key or certificate missing, an expired certificate: a
    DomainError and nothing written."""
    if not data:
        raise DomainError(_("Choose a PKCS#12 file (.p12 or .pfx)."), "file")
    if len(data) > MAX_PKCS12_BYTES:
        raise DomainError(_("The file is too large for a PKCS#12 key (100 KB at most)."), "file")
    try:
        private_key, cert, extra = pkcs12.load_key_and_certificates(
            data, (password or "").encode() or None
        )
    except ValueError as exc:
        raise DomainError(
            _(
                "This file could not be opened: either it is not a PKCS#12 file or the "
                "password is wrong."
            ),
            "password",
        ) from exc
    if private_key is None or cert is None:
        raise DomainError(_("The file must hold both a private key and its certificate."), "file")
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise DomainError(
            _("Only RSA keys are accepted (they give reproducible signatures)."), "file"
        )
    if cert.public_key().public_numbers() != private_key.public_key().public_numbers():
        raise DomainError(_("The certificate does not belong to the private key."), "file")
    if cert.not_valid_after_utc <= datetime.now(UTC):
        raise DomainError(
            _(
                "The certificate expired on %(date)s.",
                date=cert.not_valid_after_utc.date().isoformat(),
            ),
            "file",
        )
    return _store(KeySource.UPLOADED, private_key, [cert, *list(extra or [])], actor=actor)
