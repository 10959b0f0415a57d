"""Buyers: who an email belongs to, the one-time codes that prove an email is theirs,
their saved cards, and the audit log of what they change."""
