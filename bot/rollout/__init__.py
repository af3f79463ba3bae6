"""Staged rollouts: the schedule (pure), the byte-preserving file edit, and the job shell."""
