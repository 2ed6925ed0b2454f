"""Hostile input and faults at the boundary to the C engine: exit 2 or a clear HOLD, never a crash or a hang.

Whatever could crash or hang the process runs in a subprocess with a timeout, so that a crash fails
the test instead of killing pytest.
"""
import json
import subprocess
import sys
import textwrap

import pytest
import yaml
from conftest import REPO, fired, order

from controls import Decision
from controls.engine.engine import BEFORE_RULES
from controls.rulebook.yamlsource import EventLoader, LineDict, LineList, _load_fast, _Loader

BUNDLE = "name: test-bundle\nversion: 2026.1.0\n"
BOMB = "".join(f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi"))
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + BOMB  # 9^9 nodes in 678 bytes


def run(args, tmp_path, timeout=120, stdin=None):
    """The command line in a fresh process, without lists (parties are HOLD)."""
    env = {"PATH": "/usr/bin:/bin", "CHIPGATE_LISTS": str(tmp_path / "no-lists")}
    return subprocess.run([sys.executable, "cli.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, input=stdin)


def python(code, tmp_path, timeout=240):
    env = {"PATH": "/usr/bin:/bin", "CHIPGATE_LISTS": str(tmp_path / "no-lists")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def write(path, text):
    path.write_text(text)
    return path


def rule_pack(tmp_path, rules_yaml):
    (tmp_path / "pack").mkdir()
    write(tmp_path / "pack" / "bundle.yaml", BUNDLE)
    write(tmp_path / "pack" / "rules.yaml", rules_yaml)
    return tmp_path / "pack"


def rule(i, when):
    return (f"  - id: test.r{i}\n    title: rule {i}\n    citation: none\n    effective: {{from: 2020-01-01}}\n"
            f"    verification: generated\n    when: {when}\n    then: {{decision: HOLD, message: x}}\n")


# --- dates before the earliest rule: the engine once freed stray pointers (exit 134) -------------------

@pytest.mark.parametrize("args", [["check", "ORDER"], ["check", "ORDER", "--as-of", "1999-12-31"],
                                  ["check", "ORDER", "--as-of", "0001-01-01"]])
def test_a_date_before_every_rule_is_hold_not_a_crash(tmp_path, args):
    day = "1999-12-31" if "--as-of" not in args else "2026-01-05"
    path = write(tmp_path / "order.json", json.dumps(order(date=day, parties=[])))
    result = run([str(path) if a == "ORDER" else a for a in args] + ["--format", "json"], tmp_path)
    assert result.returncode == 5, result.stderr
    assert BEFORE_RULES in {f["rule"] for f in json.loads(result.stdout)["findings"]}


def test_no_rule_in_force_only_before_the_first_rule(engine):
    before = engine.check(order(date="1999-12-31"))
    assert before.decision == Decision.HOLD and BEFORE_RULES in fired(before)
    assert before.lines[0].decision == Decision.HOLD
    on_the_day = engine.check(order(date="2000-01-01"))
    assert BEFORE_RULES not in fired(on_the_day)
    assert on_the_day.lines[0].subject_to_ear is True


def test_sessions_where_no_rule_fires_are_deleted_safely(tmp_path):
    # 1,100 checks that fire nothing: more than the engine's 1,024 live sessions, so each is deleted
    pack = rule_pack(tmp_path, "rules:\n" + rule(0, "{item.hs_code: '9999.99'}"))
    result = python(f"""
        from controls import Engine
        engine = Engine.load({str(pack)!r})
        txn = {order(date="1999-01-01", parties=[])!r}
        for _ in range(1100):
            assert engine.check(txn).decision.value == "HOLD"
        print("ok")
    """, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_a_fork_while_another_thread_checks_does_not_deadlock_the_child(tmp_path):
    result = python(f"""
        import os, threading, time
        from controls import Engine
        engine = Engine.load()
        txn = {order(parties=[])!r}
        stop = False
        def busy():
            while not stop:
                engine.check(txn)
        worker = threading.Thread(target=busy)
        worker.start()
        hung = 0
        for _ in range(20):
            time.sleep(0.01)
            pid = os.fork()
            if pid == 0:
                engine.check(txn)
                os._exit(0)
            deadline = time.time() + 20
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    assert os.waitstatus_to_exitcode(status) == 0
                    break
                if time.time() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    hung += 1
                    break
                time.sleep(0.01)
        stop = True
        worker.join()
        print("hung", hung)
    """, tmp_path, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "hung 0", result.stdout + result.stderr[-2000:]


# --- rule packs that would hang or exhaust the engine --------------------------------------------------

def test_any_branches_count_towards_the_engine_node_limit(tmp_path):
    # 171 rules with an any of 3: 513 branches under one node, where durable-rules' create_ruleset hangs
    rules = "".join(rule(i, "{any: [" + ", ".join(f"{{item.hs_code: 'H{i}-{j}'}}" for j in range(3)) + "]}")
                    for i in range(171))
    result = run(["rules", "validate", str(rule_pack(tmp_path, "rules:\n" + rules))], tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "rules.yaml:" in result.stderr and "513 distinct tests share one engine node" in result.stderr


def test_any_branches_within_the_limit_compile(tmp_path):
    rules = "".join(rule(i, "{any: [" + ", ".join(f"{{item.hs_code: 'H{i}-{j}'}}" for j in range(3)) + "]}")
                    for i in range(85))
    result = run(["rules", "validate", str(rule_pack(tmp_path, "rules:\n" + rules))], tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr


def test_an_alias_bomb_in_a_rule_is_refused_with_file_and_line(tmp_path):
    text = BOMB + "rules:\n" + rule(0, "{all: [*i]}")
    assert len(BOMB) <= 700
    result = run(["rules", "validate", str(rule_pack(tmp_path, text))], tmp_path, timeout=60)
    assert result.returncode == 2
    assert "rules.yaml:5:" in result.stderr and "aliases expand" in result.stderr


def test_deep_nesting_in_a_rule_is_refused_with_file_and_line(tmp_path):
    text = "rules:\n" + rule(0, "{not: " * 100_000 + "{item.hs_code: '1'}" + "}" * 100_000)
    result = run(["rules", "validate", str(rule_pack(tmp_path, text))], tmp_path, timeout=60)
    assert result.returncode == 2 and "rules.yaml:" in result.stderr and "nested deeper" in result.stderr


def test_the_shipped_rules_use_aliases_within_the_budget(engine):
    assert len(engine.rules) > 100  # the generated country chart uses anchors and aliases


# --- orders ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, text, expected", [
    ("id-bomb.yaml", BOMB.replace("i: &i", "id:") + "date: 2026-01-05\nexport_from: US\ndestination: CN\n"
                                                   "items: [{sku: X, quantity: 1, origin: US}]\n",
     "id-bomb.yaml:5: malformed YAML: aliases expand"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "deep.json:1: malformed YAML: nested deeper than 64 levels"),
    ("digits.json", json.dumps(order()).replace('"quantity": 1', '"quantity": ' + "9" * 5000),
     "digits.json:1: malformed YAML: integer of 5000 characters is too long"),
    ("empty.json", "[]", "empty.json: empty batch"),
])
def test_hostile_orders_are_exit_2_naming_file_and_line(tmp_path, name, text, expected):
    result = run(["check", str(write(tmp_path / name, text))], tmp_path, timeout=60)
    assert result.returncode == 2 and expected in result.stderr, result.stderr[-2000:]


def test_error_messages_show_a_large_id_only_in_part(tmp_path):
    text = ('a: &a [' + ", ".join(['"lol"'] * 100) + "]\nid: [" + ", ".join(["*a"] * 150) + "]\n"
            "date: 2026-01-05\nexport_from: US\ndestination: CN\nitems: [{sku: X, quantity: 1, origin: US}]\n")
    result = run(["check", str(write(tmp_path / "big-id.yaml", text))], tmp_path, timeout=60)
    assert result.returncode == 2 and "id: Input should be a valid string" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 300


def _tree(value):
    """A parsed YAML value with the line of every key and item (what error messages point at)."""
    if isinstance(value, LineDict):
        return ("map", value.line, [(k, value.lines[k], _tree(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, [(line, _tree(v)) for line, v in zip(value.lines, value)])
    return (type(value).__name__, value)


@pytest.mark.parametrize("path", sorted(p.relative_to(REPO).as_posix() for pattern in
                                        ("rules/**/*.yaml", "examples/**/*.yaml", "tests/packs/**/*.yaml")
                                        for p in REPO.glob(pattern)))
def test_libyaml_parses_every_file_as_the_line_tracking_loader_does(path):
    text = (REPO / path).read_text(encoding="utf-8")
    try:
        expected = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            yaml.load(text, Loader=EventLoader)
        with pytest.raises(yaml.YAMLError):
            _load_fast(text)
        return
    assert _tree(yaml.load(text, Loader=EventLoader)) == _tree(expected)
    assert _tree(_load_fast(text)) == _tree(expected)


def test_libyaml_keeps_the_limits_of_the_line_tracking_loader():
    deep = "a: " + "[" * 70 + "]" * 70
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcde", "bcdef"))
    for text, why in ((deep, "nested deeper"), (bomb, "aliases expand"), ("n: " + "9" * 41, "too long")):
        with pytest.raises(yaml.YAMLError, match=why):
            yaml.load(text, Loader=EventLoader)
        with pytest.raises(yaml.YAMLError):  # libyaml's own composer is never given such a text
            _load_fast(text)
