"""Answer policy (off by default): deny rules, canned official answers and output checks, from a YAML file.

```yaml
deny:          # refused before retrieval, with a fixed message
  - pattern: "(?i)\\bpassword\\b"
    message: "I can't help with credentials."
canned:        # the official text, marked as a policy answer
  - pattern: "(?i)refund policy"
    answer: "Refunds are available within 30 days of purchase."
block_output:  # answers that match are withheld
  - pattern: "(?i)\\b\\d{3}-\\d{2}-\\d{4}\\b"
    message: "The answer was withheld because it looked like a personal identifier."
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ragqa.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    text: str


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    kind: str  # "deny" | "canned" | "blocked"
    text: str


def _rules(raw: object, key: str, text_key: str, path: Path) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"policy {path}: '{key}' must be a list")
    rules = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "pattern" not in item or text_key not in item:
            raise ConfigError(f"policy {path}: {key}[{i}] needs 'pattern' and '{text_key}'")
        try:
            rules.append(Rule(re.compile(str(item["pattern"])), str(item[text_key])))
        except re.error as exc:
            raise ConfigError(f"policy {path}: {key}[{i}] pattern is not a valid regex: {exc}") from exc
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    deny: tuple[Rule, ...] = ()
    canned: tuple[Rule, ...] = ()
    block_output: tuple[Rule, ...] = ()

    @classmethod
    def load(cls, path: Path) -> AnswerPolicy:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read policy file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"policy {path} must be a mapping with deny / canned / block_output")
        unknown = set(data) - {"deny", "canned", "block_output"}
        if unknown:
            raise ConfigError(f"policy {path}: unknown sections {sorted(unknown)}")
        return cls(
            _rules(data.get("deny"), "deny", "message", path),
            _rules(data.get("canned"), "canned", "answer", path),
            _rules(data.get("block_output"), "block_output", "message", path),
        )

    def check_question(self, question: str) -> PolicyDecision | None:
        for rule in self.deny:
            if rule.pattern.search(question):
                return PolicyDecision("deny", rule.text)
        for rule in self.canned:
            if rule.pattern.search(question):
                return PolicyDecision("canned", rule.text)
        return None

    def check_answer(self, answer: str) -> PolicyDecision | None:
        for rule in self.block_output:
            if rule.pattern.search(answer):
                return PolicyDecision("blocked", rule.text)
        return None
