"""The base's policy files are parsed once per content (once per blob id), not per reconcile."""

from pathlib import Path

from bot.flags import repository
from bot.policy import assess as assess_module
from bot.policy.assess import ChangedFile, PullContext, assess
from bot.policy.decision import PullRequestFacts

ROOT = Path(__file__).resolve().parents[2]
PR = PullRequestFacts(1, "dev", "a" * 40, "b" * 40, "main")


def context(policy: bytes, codeowners: bytes) -> PullContext:
    return PullContext(
        pr=PR,
        files=(ChangedFile("README.md", "modified"),),
        base_files={},
        head_files={},
        policy_file=policy,
        codeowners=(".github/CODEOWNERS", codeowners),
        reviews=(),
    )


def test_the_same_content_is_parsed_once(monkeypatch) -> None:
    parsed: list[str] = []
    load_policy, load_codeowners = repository.load_policy, assess_module.load_codeowners
    monkeypatch.setattr(
        repository, "load_policy", lambda *a: parsed.append("policy") or load_policy(*a)
    )
    monkeypatch.setattr(
        assess_module,
        "load_codeowners",
        lambda *a: parsed.append("codeowners") or load_codeowners(*a),
    )
    policy = (ROOT / ".github/flagbot.yml").read_bytes() + b"\n# parse-once test\n"
    owners = (ROOT / ".github/CODEOWNERS").read_bytes() + b"\n# parse-once test\n"
    first = assess(context(policy, owners))
    again = assess(context(bytes(bytearray(policy)), bytes(bytearray(owners))))  # equal copies
    assert parsed == ["policy", "codeowners"]
    assert again.policy is first.policy and again.owners == first.owners
    assess(context(policy + b"# changed\n", owners))
    assert parsed == ["policy", "codeowners", "policy"]
