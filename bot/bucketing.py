"""The meaning of a percentage (SPEC §2): which subjects are inside a flag's rollout.

A subject with targeting key `k` is inside the rollout of flag `key` at `p` percent when
`murmur3_x86_32(f"{key}:{k}", seed=0) % 100 + 1 <= p`, the hash read as an unsigned 32-bit
integer over the UTF-8 bytes. This is litestar-flags' rule bucketing and Unleash's gradual
rollout with the flag key as group id, so their published vectors check ours.

Every subject has one fixed bucket in 1..100 per flag, so raising the percentage only adds
subjects (5 → 25 → 50 → 75 → 100 never drops anyone) and lowering it removes the most recently
added first. Different flags hash differently, so the first 5 % of one flag are not the first
5 % of every flag.
"""

from __future__ import annotations

import math

import mmh3


def murmur3_32(text: str) -> int:
    """MurmurHash3 x86 32-bit of the UTF-8 bytes, seed 0, as an unsigned integer."""
    return mmh3.hash(text.encode("utf-8"), 0, signed=False)


def bucket(flag_key: str, targeting_key: str) -> int:
    """The subject's bucket for this flag, 1..100."""
    return murmur3_32(f"{flag_key}:{targeting_key}") % 100 + 1


def in_rollout(flag_key: str, targeting_key: str | None, percentage: float) -> bool:
    """Whether the subject gets the flag's `value`. 0 % is nobody, 100 % everybody. A subject
    without a targeting key cannot be placed stably, so it stays outside (as litestar-flags)."""
    if math.isnan(percentage) or not 0 <= percentage <= 100:
        raise ValueError(f"percentage must be between 0 and 100, got {percentage}")
    if targeting_key is None:
        return False
    return bucket(flag_key, targeting_key) <= percentage
