"""GitHub conformance checks shared by the whole test suite.

- `openapi`: requests and responses against the vendored OpenAPI subset.
- `webhooks`: webhook payloads against octokit's schemas, or the shapes of its real examples.
- `shapes`: field names and JSON types of our JSON against recorded real JSON.
- `cassettes`: the recorded api.github.com interactions (github3.py's betamax cassettes).
- `plugin`: the pytest plugin (registered in `tests/conftest.py`) that checks every call any
  emulator serves and every webhook it sends, in any test, and fails the test that caused a
  violation.
"""
