"""Telling stakeholders: what a notice says (pure) and the channels that carry it (I/O)."""
