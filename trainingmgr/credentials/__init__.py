"""Verifiable credentials: Open Badges 3.0, did:web, Bitstring Status List, signing keys."""
