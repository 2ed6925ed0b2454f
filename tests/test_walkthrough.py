"""rules/README.md's walkthrough, run as written: its files into a copy of the pack, its commands."""
import json
import re
import shlex
import shutil

from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls.rulebook.loader import load_rulebook

README = (REPO / "rules" / "README.md").read_text()
FILES = re.findall(r"```yaml file=(\S+)\n(.*?)```", README, re.S)
COMMANDS = [line.split("#")[0].strip() for block in re.findall(r"```sh walkthrough\n(.*?)```", README, re.S)
            for line in block.splitlines() if line.startswith("chipgate ")]


def test_the_walkthrough_runs_as_written(tmp_path, monkeypatch, cli_lists):
    assert len(FILES) == 3 and len(COMMANDS) == 9
    for target in ("rules", "rules.before"):
        shutil.copytree(REPO / "rules", tmp_path / target, ignore=shutil.ignore_patterns("lists"))
    for name, text in FILES:
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    outputs = {}
    for command in COMMANDS:
        args = shlex.split(command)[1:]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        outputs.setdefault(args[1], []).append(result.output)
    rules = len(load_rulebook(tmp_path / "rules").rules)  # the shipped rules and the walkthrough's two
    assert rules == len(load_rulebook(REPO / "rules").rules) + 2
    lint, validate = outputs["lint"][0], outputs["validate"][0]
    test, bundle_test = outputs["test"]
    impact, bundles_impact, dates_impact = outputs["impact"]
    assert lint.splitlines()[-1].startswith("0 errors")
    assert f"coverage: {rules} of {rules} rules fired in some case (100 %)" in test
    assert "thresholds without a case on both sides: 0" in test and " 0 failed" in test
    assert f"{rules} rules" in validate
    assert "PAST-1: LICENSE_REQUIRED -> LICENSE_REQUIRED\n    + example.gulf-review.officer" in impact
    assert "PAST-2" not in impact and "1 of 2 orders change" in impact
    # the bundles answer as the directories do; one bundle on two dates sees the review start
    assert bundles_impact == impact
    assert ("  + example.gulf-review.officer: 1 order (e.g. PAST-1); LICENSE_REQUIRED -> LICENSE_REQUIRED (1)"
            in bundles_impact)
    assert dates_impact.startswith("PAST-1: LICENSE_REQUIRED -> LICENSE_REQUIRED\n    + example.gulf-review.officer")
    assert bundle_test.splitlines()[-1] == test.splitlines()[-1]
    header = json.loads((tmp_path / "rules.bundle.json").read_text())["header"]
    assert header["digest"] in validate and "ear/walkthrough.yaml" in header["sources"]
