"""CODEOWNERS with GitHub's semantics: where the file is, how lines are read and rejected, and
which rule owns a path (the last matching one).

    owners, diagnostics = parse_codeowners(text, ".github/CODEOWNERS")
    owners.owners_of("flags/new_checkout_flow.yaml")  # ("@acme/eng-managers", "@acme/qa")

Pure: no I/O. `syntax` reads lines (every error is found there), `pattern` turns one
pattern into segments and a regex, `matcher` holds a parsed file and picks how to find the
deciding rule: `scan` (last rule first, behind a substring test, with `plain` matching most
patterns by string operations) for a new file, `index` once it has answered many paths.
`errors` shapes problems like GitHub's CODEOWNERS errors, `files` picks the file among
GitHub's three locations.
"""

from bot.policy.codeowners.errors import (
    INVALID_OWNER,
    INVALID_PATTERN,
    UNKNOWN_OWNER,
    CodeownersError,
)
from bot.policy.codeowners.files import (
    CODEOWNERS_LOCATIONS,
    find_codeowners,
    load_codeowners,
    locate,
)
from bot.policy.codeowners.matcher import CodeOwners, Rule
from bot.policy.codeowners.syntax import (
    MAX_BYTES,
    OwnerKind,
    owner_kind,
    parse_codeowners,
    unknown_owner_errors,
)

__all__ = [
    "CODEOWNERS_LOCATIONS",
    "INVALID_OWNER",
    "INVALID_PATTERN",
    "MAX_BYTES",
    "UNKNOWN_OWNER",
    "CodeOwners",
    "CodeownersError",
    "OwnerKind",
    "Rule",
    "find_codeowners",
    "load_codeowners",
    "locate",
    "owner_kind",
    "parse_codeowners",
    "unknown_owner_errors",
]
