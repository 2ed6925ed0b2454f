"""chipgate rules schema: a JSON Schema of rule files that editors use as the analyst types."""
import json

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls.rulebook.yamlsource import load_yaml, loads_yaml

RULE_FILES = sorted(p for p in (REPO / "rules").rglob("*.yaml") if p.name != "bundle.yaml" and "lists" not in p.parts)


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "rules.schema.json"
    result = CliRunner().invoke(main, ["rules", "schema", "-o", str(out)])
    assert result.exit_code == 0 and "yaml-language-server: $schema=" in result.output
    return jsonschema.Draft7Validator(json.loads(out.read_text()))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_shipped_rule_file_fits_the_schema(validator, path):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load_yaml(path))]
    assert not errors, errors[:3]


@pytest.mark.parametrize("when", [
    "item.chip.tp: {gte: 4800}",          # misspelt fact
    "item.chip.tpp: {gtee: 4800}",        # misspelt operator
    "item.chip.tpp: {in: D:5}",           # no membership on numbers
    "destination: {in: D:9}",             # unknown set
    "condition: nac-itemz",               # unknown named condition
    "end_uses: {in: [militray]}",         # unknown end-use tag
])
def test_the_schema_rejects_what_the_loader_would(validator, when):
    text = f"""\
rules:
  - id: t.r
    title: a rule
    citation: 15 CFR 742.6
    effective: {{from: 2020-01-01}}
    when: {{{when}}}
    then: {{decision: HOLD}}
"""
    assert list(validator.iter_errors(loads_yaml(text, "t.yaml")))
