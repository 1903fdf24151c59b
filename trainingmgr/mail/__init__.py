"""E-mail: messages written to a database outbox with the change that caused them."""
