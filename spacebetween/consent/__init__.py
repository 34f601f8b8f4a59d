"""The client's consent to measurement and to e-mail contact: a history of decisions, never
overwritten (docs/data-rights.md). Senders of client e-mail ask `selectors.email_allowed` first."""
