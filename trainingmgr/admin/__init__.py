"""Administration: accounts (roles, programmes, linked person, activation) and invitations."""
