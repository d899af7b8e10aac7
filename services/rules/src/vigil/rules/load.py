"""Loading rules: the YAML file (global rules) and per-patient overrides, with errors that name
the file, the rule and the field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vigil.rules.model import OPS, Rule, RuleFile

DEFAULT_RULES = "default_rules.yaml"


class RuleError(ValueError):
    """A rule file or override is invalid; ``problems`` lists each one on its own line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _field(loc: tuple[int | str, ...]) -> str:
    # The signal's fields are written inline in the rule: name them as written.
    if loc == ("signal",):
        return "kind"
    if loc[:1] == ("signal",):
        loc = loc[1:]
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.replace("for_", "for") or "(rule)"


def _problems(where: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in ("function-after[_shape(), Rule]",))
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: field '{_field(loc)}': {msg}")
    return out


def parse_rules(text: str, source: str) -> list[Rule]:
    """Validate a rule file's text; raise :class:`RuleError` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError([f"{source}: not valid YAML: {exc}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RuleError([f"{source}: the file must be a mapping with 'version' and 'rules'"])
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RuleError([f"{source}: field 'rules' must be a list"])
    problems: list[str] = []
    try:
        RuleFile.model_validate({k: v for k, v in data.items() if k != "rules"})
    except ValidationError as exc:
        problems += _problems(source, exc)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"{source}: rule '{name}' (rules[{i}])" if name else f"{source}: rules[{i}]"
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as exc:
            problems += _problems(where, exc)
            continue
        if rule.name in seen:
            problems.append(f"{where}: field 'name': duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        rules.append(rule)
    if problems:
        raise RuleError(problems)
    return rules


def load_file(path: str | Path | None) -> list[Rule]:
    """Rules from ``path``, or the packaged default rules when ``path`` is None."""
    if path is None:
        text = resources.files("vigil.rules").joinpath(DEFAULT_RULES).read_text()
        return parse_rules(text, f"(packaged) {DEFAULT_RULES}")
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise RuleError([f"{p}: cannot read: {exc.strerror or exc}"]) from None
    return parse_rules(text, str(p))


def _flat(rule: Rule) -> dict[str, Any]:
    data = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.update(data.pop("signal", None) or {})
    return data


def apply_override(base: Rule | None, patient_id: str, name: str,
                   params: dict[str, Any]) -> Rule:
    """The rule ``name`` for one patient: the global rule with ``params`` laid over it (a new
    patient-only rule when there is no global one)."""
    data = _flat(base) if base is not None else {"name": name}
    if "levels" in params or any(op in params for op in OPS):
        data.pop("levels", None)
    if "any" in params or "all" in params:
        data.pop("any", None)
        data.pop("all", None)
    data.update(params)
    data["name"] = name
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        raise RuleError(_problems(f"override for patient '{patient_id}': rule '{name}'",
                                  exc)) from None
