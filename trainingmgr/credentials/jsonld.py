"""JSON-LD processing with vendored contexts only: nothing is fetched at run time.

The contexts in ``contexts/`` are copies of the published documents (W3C VC Data Model 2.0
and its examples, Data Integrity v2, Multikey v1, 1EdTech Open Badges 3.0.3). A credential
naming any other context is refused (``UnknownContext``) rather than looked up on the network.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld

CONTEXT_DIR = Path(__file__).parent / "contexts"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"

CONTEXTS = {
    VC_V2: "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
}


class UnknownContext(ValueError):
    """A JSON-LD context that is not vendored (never fetched)."""


@cache
def _context(url: str) -> dict[str, Any]:
    return json.loads((CONTEXT_DIR / CONTEXTS[url]).read_text("utf-8"))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader serving the vendored contexts and refusing everything else."""
    if url not in CONTEXTS:
        raise UnknownContext(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(_context(url)),
    }


def canonize(document: dict[str, Any]) -> str:
    """The RDF Dataset Canonicalization (RDFC-1.0, URDNA2015) of ``document`` as N-Quads.

    Raises ``UnknownContext`` for a context that is not vendored and ``ValueError`` for a
    document JSON-LD cannot process. Properties without a term are not dropped: VC 2.0's
    context maps them to its ``issuer-dependent`` vocabulary, so they are signed too."""
    try:
        return jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
            },
        )
    except jsonld.JsonLdError as exc:
        cause = exc
        while cause is not None:
            if isinstance(cause, UnknownContext):
                raise cause from exc
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise ValueError(str(exc)) from exc
