"""Accounts: users, roles, sign-in and permissions."""
