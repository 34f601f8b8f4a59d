"""A client's data rights: the subject access archive (export), erasure or anonymisation under the
practice's retention rule, and the page where the treating therapist changes consent
(docs/data-rights.md)."""
