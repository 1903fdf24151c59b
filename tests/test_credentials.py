"""Open Badges 3.0 credentials (issue 21): the eddsa-rdfc-2022 signer reproduces the W3C test
vector, credentials verify with an implementation independent of the signer, one changed
field fails, rotation keeps old credentials verifiable, revocation flips the status bit, and
the checks of a pasted credential answer in words."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld as pyld

from tests.signing_helpers import generate_key
from trainingmgr.certificates import services as certificates
from trainingmgr.credentials import dataintegrity, jsonld, multibase, services, statuslist

VECTORS = Path(__file__).parent / "data" / "eddsa-rdfc-2022"
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# ------------------------------------------------------------ an independent verifier


def _b58(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + ALPHABET.index(char)
    return number.to_bytes(64, "big")  # Ed25519 signatures are 64 bytes


def _canon(document: dict[str, Any]) -> bytes:
    """RDFC-1.0 with pyld directly, contexts from the vendored files (read here, not through
    the application's loader)."""
    files = {url: jsonld.CONTEXT_DIR / name for url, name in jsonld.CONTEXTS.items()}

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        document = json.loads(files[url].read_text())
        return {"document": document, "documentUrl": url, "contextUrl": None}

    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
    return pyld.normalize(document, options).encode()


def independently_verified(credential: dict[str, Any], public_key: Ed25519PublicKey) -> bool:
    proof = dict(credential["proof"])
    value = proof.pop("proofValue")
    proof["@context"] = credential["@context"]
    document = {k: v for k, v in credential.items() if k != "proof"}
    data = hashlib.sha256(_canon(proof)).digest() + hashlib.sha256(_canon(document)).digest()
    assert value.startswith("z")
    try:
        public_key.verify(_b58(value[1:]), data)
    except InvalidSignature:
        return False
    return True


def _public(key: Any) -> Ed25519PublicKey:
    raw = multibase.public_key_bytes(key.ed25519_public)
    return Ed25519PublicKey.from_public_bytes(raw)


# ------------------------------------------------------------ the W3C test vector


def test_the_signer_reproduces_the_w3c_eddsa_rdfc_2022_test_vector() -> None:
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    published = json.loads((VECTORS / "signedDataInt.json").read_text())
    document = {k: v for k, v in published.items() if k != "proof"}
    seed = multibase.private_key_seed(pair["privateKeyMultibase"])
    key = Ed25519PrivateKey.from_private_bytes(seed)

    signed = dataintegrity.sign(
        document,
        key,
        verification_method=published["proof"]["verificationMethod"],
        created=published["proof"]["created"],
    )

    assert signed == published
    assert signed["proof"]["proofValue"] == (
        "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme"
    )
    assert jsonld.canonize(document) == (VECTORS / "canonDocDataInt.txt").read_text()
    public = Ed25519PublicKey.from_public_bytes(
        multibase.public_key_bytes(pair["publicKeyMultibase"])
    )
    assert independently_verified(published, public)
    assert dataintegrity.verify(published, dataintegrity.did_key_resolver)


def test_no_context_is_fetched_from_the_network() -> None:
    document = {"@context": ["https://example.org/unknown-context"], "name": "x"}
    with pytest.raises(jsonld.UnknownContext):
        jsonld.canonize(document)


# ------------------------------------------------------------ a certificate's credential


def test_a_certificates_credential_names_what_the_certificate_says(
    make: Any, db_session: Any
) -> None:
    admin = make.user()
    key = generate_key(actor=admin)
    certificate = make.certificate()
    credential = services.credential(certificate)
    assert credential is not None
    snap = certificate.snapshot

    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["issuer"]["id"] == "did:web:training.example.org"
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == snap["holder"]["name"]
    assert subject["achievement"]["name"] == snap["programme"]["title"]
    assert f"{snap['hours']} hours" in subject["achievement"]["criteria"]["narrative"]
    assert credential["validFrom"].startswith(certificate.issued_at.strftime("%Y-%m-%dT%H:%M"))
    assert credential["credentialStatus"]["statusListIndex"] == str(certificate.id)
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["proof"]["verificationMethod"] == f"did:web:training.example.org#key-{key.id}"
    assert independently_verified(credential, _public(key))
    # The same certificate and key always give the same credential.
    assert services.credential(certificate) == credential
    assert services.check(json.dumps(credential)).ok


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
        lambda c: c["credentialSubject"]["achievement"].update(name="Another programme"),
        lambda c: c.update(validFrom="2020-01-01T00:00:00Z"),
        lambda c: c["credentialStatus"].update(statusListIndex="999"),
    ],
)
def test_changing_one_field_fails_verification(make: Any, db_session: Any, change: Any) -> None:
    key = generate_key(actor=make.user())
    credential = services.credential(make.certificate())
    assert credential is not None
    changed = copy.deepcopy(credential)
    change(changed)

    assert not independently_verified(changed, _public(key))
    result = services.check(json.dumps(changed))
    assert not result.ok
    assert "the signature does not match the content" in result.message


def test_a_field_added_is_refused(make: Any, db_session: Any) -> None:
    """JSON-LD drops a property no context defines, so the proof cannot cover it: the check
    refuses a credential with a property this organisation never issues."""
    generate_key(actor=make.user())
    credential = services.credential(make.certificate())
    assert credential is not None
    credential["credentialSubject"]["grade"] = "A+"

    result = services.check(json.dumps(credential))
    assert not result.ok
    assert "a field this organisation does not sign (grade)" in result.message


def test_rotation_old_credentials_still_verify_and_did_lists_both_keys(
    make: Any, db_session: Any
) -> None:
    admin = make.user()
    old_key = generate_key(actor=admin)
    old_credential = services.credential(make.certificate())
    new_key = generate_key(other=True, actor=admin)
    new_credential = services.credential(make.certificate())
    assert old_credential and new_credential

    document = services.did_document()
    methods = {m["id"]: m["publicKeyMultibase"] for m in document["verificationMethod"]}
    assert methods == {
        f"did:web:training.example.org#key-{new_key.id}": new_key.ed25519_public,
        f"did:web:training.example.org#key-{old_key.id}": old_key.ed25519_public,
    }
    assert set(document["assertionMethod"]) == set(methods)
    assert services.check(json.dumps(old_credential)).ok
    assert services.check(json.dumps(new_credential)).ok
    assert old_credential["proof"]["verificationMethod"].endswith(f"#key-{old_key.id}")


def test_revoking_flips_the_status_bit(make: Any, db_session: Any) -> None:
    admin = make.user()
    key = generate_key(actor=admin)
    certificate = make.certificate()
    credential = services.credential(certificate)
    assert credential is not None

    before = services.status_list(0)
    assert before is not None and independently_verified(before, _public(key))
    bits = statuslist.decode(before["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == statuslist.SIZE
    assert not statuslist.is_set(bits, certificate.id)

    certificates.revoke(certificate, "Issued by mistake", actor=admin)
    after = services.status_list(0)
    assert after is not None
    assert statuslist.is_set(
        statuslist.decode(after["credentialSubject"]["encodedList"]), certificate.id
    )
    result = services.check(json.dumps(credential))
    assert not result.ok and result.status == "revoked"
    assert "revoked" in result.message
    assert services.credential(certificate) is None  # no longer offered


def test_checks_of_bad_input_answer_in_words(make: Any, db_session: Any) -> None:
    generate_key(actor=make.user())
    credential = services.credential(make.certificate())
    assert credential is not None

    assert "not JSON" in services.check("{not json").message
    assert "not an Open Badges credential" in services.check('{"a": 1}').message
    assert "too large" in services.check("x" * (services.MAX_CREDENTIAL_BYTES + 1)).message

    other = copy.deepcopy(credential)
    other["issuer"]["id"] = "did:web:elsewhere.example"
    assert "not issued by this organisation" in services.check(json.dumps(other)).message

    unknown_key = copy.deepcopy(credential)
    unknown_key["proof"]["verificationMethod"] = "did:web:training.example.org#key-999999"
    assert "not one of this organisation's keys" in services.check(json.dumps(unknown_key)).message

    no_proof = {k: v for k, v in credential.items() if k != "proof"}
    assert "no proof" in services.check(json.dumps(no_proof)).message

    context = copy.deepcopy(credential)
    context["@context"].append("https://example.org/context")
    assert "JSON-LD context" in services.check(json.dumps(context)).message


def test_without_a_key_no_credential_is_offered(make: Any, db_session: Any) -> None:
    certificate = make.certificate()
    assert services.credential(certificate) is None
    assert services.status_list(0) is None
    assert services.did_document()["verificationMethod"] == []
