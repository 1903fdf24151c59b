"""Data Integrity proofs of the ``eddsa-rdfc-2022`` cryptosuite (W3C "Data Integrity EdDSA
Cryptosuites v1.0"), written from the specification:

1. the proof options (the proof without ``proofValue``) get the document's ``@context``;
2. both the document without its proof and the proof options are canonicalized with RDFC-1.0
   (``jsonld.canonize``: vendored contexts only);
3. the data signed is SHA-256(canonical proof options) followed by SHA-256(canonical document);
4. ``proofValue`` is the Ed25519 signature of that, multibase base58btc (``z...``).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from trainingmgr.credentials import jsonld, multibase

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class ProofError(ValueError):
    """Why a proof does not verify, in words for the verifier."""


def hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    """The bytes signed: SHA-256 of the canonical proof options, then of the document."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in options.items() if k != "proofValue"}
    config["@context"] = unsecured.get("@context")
    return (
        hashlib.sha256(jsonld.canonize(config).encode()).digest()
        + hashlib.sha256(jsonld.canonize(unsecured).encode()).digest()
    )


def sign(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """``document`` with a ``DataIntegrityProof`` added (Ed25519 is deterministic: the same
    key, document and ``created`` give the same proof value)."""
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    signature = key.sign(hash_data(document, options))
    secured = copy.deepcopy(document)
    secured["proof"] = {**options, "proofValue": multibase.encode(signature)}
    return secured


def verify(
    document: dict[str, Any], resolve_key: Callable[[str], Ed25519PublicKey | None]
) -> dict[str, Any]:
    """Check ``document``'s proof; return the proof. ``resolve_key(verification_method)``
    gives the public key allowed to sign for that method (None: unknown). Raises
    ``ProofError`` (or ``jsonld.UnknownContext``)."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("the credential has no proof (or more than one)")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("the proof is not a DataIntegrityProof of the eddsa-rdfc-2022 suite")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("the proof's purpose is not assertionMethod")
    method = proof.get("verificationMethod")
    public_key = resolve_key(method) if isinstance(method, str) else None
    if public_key is None:
        raise ProofError("the proof's key is not one of the issuer's keys")
    try:
        signature = multibase.decode(proof.get("proofValue", ""))
    except ValueError as exc:
        raise ProofError("the proof value is not a base58btc multibase value") from exc
    try:
        public_key.verify(signature, hash_data(document, proof))
    except InvalidSignature as exc:
        raise ProofError("the signature does not match the credential's content") from exc
    return proof


def did_key_resolver(method: str) -> Ed25519PublicKey | None:
    """Public key of a ``did:key:z6Mk...#z6Mk...`` Ed25519 method (for test vectors)."""
    if not method.startswith("did:key:"):
        return None
    fragment = method.split("#", 1)[-1]
    try:
        return Ed25519PublicKey.from_public_bytes(multibase.public_key_bytes(fragment))
    except ValueError:
        return None
