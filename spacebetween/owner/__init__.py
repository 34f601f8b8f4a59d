"""The practice owner's pages (admin only): the audit log viewer and its CSV export, the e-mail
outbox, and the practice's settings in one place."""
