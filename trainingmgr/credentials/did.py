"""The organisation as ``did:web``: its identifier from ``BASE_URL``'s host and its DID
document (``/.well-known/did.json``) listing every signing key, current and retired, as
Multikey verification methods, so that credentials signed under an old key still verify."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from trainingmgr.core.urls import base_url
from trainingmgr.credentials import jsonld
from trainingmgr.credentials.models import SigningKey


def issuer_did() -> str:
    """``did:web:<host>`` (a port is written ``%3A<port>``, as did:web requires)."""
    host = urlsplit(base_url()).netloc.lower()
    return "did:web:" + quote(host, safe="")


def method_id(key: SigningKey) -> str:
    return f"{issuer_did()}#key-{key.id}"


def key_id_of(method: str) -> int | None:
    """The key id in one of this issuer's verification method ids, else None."""
    prefix = issuer_did() + "#key-"
    if not method.startswith(prefix) or not method[len(prefix) :].isdigit():
        return None
    return int(method[len(prefix) :])


def document(keys: list[SigningKey]) -> dict[str, Any]:
    did = issuer_did()
    methods = [
        {
            "id": method_id(key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.ed25519_public,
        }
        for key in keys
    ]
    ids = [m["id"] for m in methods]
    return {
        "@context": [jsonld.DID_V1, jsonld.MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }
