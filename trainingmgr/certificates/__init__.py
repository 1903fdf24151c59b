"""Completion certificates: issuance, PDF and public verification."""
