"""Development helpers (need the ``dev`` or ``test`` extra)."""
