"""Streaming batches (issue 9): every record yields one result or one error, in input order, in every
format; forked workers and a Dask cluster give the same output as one process; nothing partial on a crash."""
import csv
import json
import os
import sys

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, order
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from controls import Decision, InputError
from controls.batch import CSV_COLUMNS, Summary, read_records, run_batch
from controls.errors import EngineError
from controls.orders import exact_json, parse_json, validate_order

sys.path.insert(0, str(REPO / "bench"))
from corpus import corpus  # noqa: E402

GOOD_DE = order("DE", eccn="3A090.a") | {"id": "A"}
GOOD_KP = order("KP", eccn="EAR99") | {"id": "F"}
UNKNOWN_COUNTRY = order("XX", eccn="3A090.a") | {"id": "B"}
MISSING_FIELD = {k: v for k, v in order("CN", eccn="3A090.a").items() if k != "destination"} | {"id": "D"}
WRONG_TYPE = order("CN", eccn="3A090.a", quantity="eight") | {"id": "E"}
ORDERS = [GOOD_DE, UNKNOWN_COUNTRY, MISSING_FIELD, WRONG_TYPE, GOOD_KP]
# what each record must give: a decision, or the field an error names
EXPECTED = ["NLR", "destination", "destination", "items.0.quantity", "PROHIBITED"]


def write_jsonl(path, orders, bad_line=None):
    lines = [json.dumps(o) for o in orders]
    if bad_line is not None:
        lines.insert(bad_line, '{"id": "C", "date": ')
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path, orders):
    columns = ["id", "date", "export_from", "destination", "end_user.name", "end_user.country",
               "item.sku", "item.quantity", "item.origin", "item.eccn"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for o in orders:
            party = o["parties"][0]
            for item in o["items"]:
                writer.writerow([o["id"], o["date"], o["export_from"], o.get("destination", ""), party["name"],
                                 party["country"], item["sku"], item["quantity"], item["origin"], item["eccn"]])
    return path


WRITERS = {
    "jsonl": lambda path, orders: write_jsonl(path, orders),
    "json": lambda path, orders: path.write_text(json.dumps(orders, indent=2)) and path,
    "yaml": lambda path, orders: path.write_text(yaml.safe_dump(orders, sort_keys=False)) and path,
    "csv": write_csv,
}


def outcomes(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def said(outcome) -> str:
    return outcome["decision"] if "decision" in outcome else outcome["errors"][0]["field"]


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_bad_records_in_the_middle_give_one_error_each_in_input_order(engine, tmp_path, fmt):
    source = WRITERS[fmt](tmp_path / f"orders.{fmt}", ORDERS)
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [said(r) for r in results] == EXPECTED
    assert [r["record"] for r in results if "record" in r] == [2, 3, 4]
    assert [r["transaction_id"] for r in results] == ["A", "B", "D", "E", "F"]
    assert "unknown country code 'XX'" in results[1]["errors"][0]["message"]
    assert results[2]["errors"][0]["message"] == "Field required"
    assert "not the text 'eight'" in results[3]["error"]
    assert summary.first_invalid == [2, 3, 4] and summary.invalid == 3 and summary.exit_code == 2
    assert summary.decisions == {"NLR": 1, "PROHIBITED": 1}


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_an_error_names_the_line_of_the_field(engine, tmp_path, fmt):
    source = WRITERS[fmt](tmp_path / f"orders.{fmt}", ORDERS)
    text = source.read_text().splitlines()
    results = outcomes(run_batch(engine, source, tmp_path / "out.jsonl") and tmp_path / "out.jsonl")
    unknown = results[1]["errors"][0]
    assert "XX" in text[unknown["line"] - 1] and "destination" in text[unknown["line"] - 1]
    quantity = results[3]["errors"][0]
    assert "quantity" in text[quantity["line"] - 1] and "eight" in text[quantity["line"] - 1]


def test_a_bad_json_line_is_one_error_and_the_lines_after_it_are_checked(engine, tmp_path):
    source = write_jsonl(tmp_path / "orders.jsonl", ORDERS, bad_line=2)
    run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [said(r) for r in results] == EXPECTED[:2] + [None] + EXPECTED[2:]
    assert results[2]["record"] == 3 and results[2]["line"] == 3 and "malformed JSON" in results[2]["error"]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_number_whose_exponent_decimal_cannot_hold_is_an_error_record(engine, tmp_path, fmt):
    """``1e99999999999999999999`` made Decimal raise InvalidOperation, an ArithmeticError the readers did not
    expect: the whole run failed (exit 1, nothing written).  It is that record's error now."""
    huge = json.dumps(GOOD_DE | {"id": "H"}).replace('"quantity": 1', '"quantity": 1e99999999999999999999')
    texts = [json.dumps(GOOD_DE), huge, json.dumps(GOOD_KP)]
    source = tmp_path / f"orders.{fmt}"
    source.write_text("\n".join(texts) + "\n" if fmt == "jsonl" else "[" + ",\n".join(texts) + "]")
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [r.get("decision") for r in results] == ["NLR", None, "PROHIBITED"] and summary.exit_code == 2
    assert "out of range" in results[1]["error"]


def test_a_determination_is_the_json_of_check_format_json(engine, tmp_path):
    source = write_jsonl(tmp_path / "orders.jsonl", [GOOD_DE, GOOD_KP])
    run_batch(engine, source, tmp_path / "out.jsonl")
    assert outcomes(tmp_path / "out.jsonl") == [engine.check(o).model_dump(mode="json") for o in (GOOD_DE, GOOD_KP)]


def test_each_output_line_is_the_bytes_of_the_determinations_json_in_input_order(engine, tmp_path):
    orders = corpus(150, seed=3)
    orders[40] = {**orders[40], "items": [{**orders[40]["items"][0], "unit_value": 1234.50}]}  # an exact fraction
    source = write_jsonl(tmp_path / "orders.jsonl", orders, bad_line=70)
    for workers in (1, 2):
        run_batch(engine, source, tmp_path / "out.jsonl", workers=workers)
        lines = (tmp_path / "out.jsonl").read_bytes().split(b"\n")
        assert lines.pop() == b"" and len(lines) == len(orders) + 1  # one record out per record in
        assert b"malformed JSON" in lines.pop(70)
        assert lines == [engine.check(validate_order(o)).model_dump_json().encode() for o in orders]


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}', '{"t": "10:00", "t": "x"}', '{"a": "\\", "b": "\\", "b": 3}', '{"a":1,"a":1}',
    '{"a": "x\\":y", "b": 1}', '{"a" : 1.10, "b": [2.50, {"c": 1e5}]}', '{"a": 12345678901234567890123}',
    '{"a": 1' + '0' * 45 + '}', '{"a": NaN}', '{"a": "\\ud800"}', '[{"k": [1, {"k": 2}]}, {"k": -0}]',
    '{"a" :1, "b": {"a": 1}}', '{"a": 1,}', '\ufeff{"a": 1}', '{"a": 1.50, "b": 18446744073709551616}',
    '[1E400]', '{"a": -0.0, "b": "2.5", "c:1.5": 3e-7, "d": [0.10, "\\"", 1E+2]}', '2.50', '[2.50]',
    '{"a": -' + '9' * 39 + '}', '{"a": ' + '9' * 40 + '}', '{"a": -' + '9' * 40 + '}', '{"a": "' + '1' * 50 + '"}',
    '[' * 300 + ']' * 300, '{"a": "\ud800"}', '{"a": "é", "é": [1.0, 2]}', '{"a": Infinity}', ' {"a": 1} ',
    '{"a": 1e99999999999999999999}', '[-2.5E-99999999999999999999]'])
def test_orders_json_reads_as_the_exact_reader_does(text):
    """The fast reader's answer (or error) is the exact reader's: fractions exact, repeated keys and huge
    integers refused."""
    for written in (text, text.encode("utf-8", "surrogatepass")):
        assert _read(parse_json, written) == _read(exact_json, written)


def _read(reader, given):
    try:
        value = reader(given)
    except ValueError as exc:
        return type(exc), str(exc)
    return repr(value)  # a Decimal's repr keeps its digits as written: 1.50 is not 1.5


_NUMBERS = st.one_of(
    st.integers(-10**25, 10**25).map(str),
    st.builds(lambda whole, digits, exponent: f"{whole}{'.' + digits if digits else ''}{exponent}",
              st.integers(-10**6, 10**6), st.text("0123456789", max_size=20),
              st.sampled_from(["", "e5", "E-3", "e+2", "e-310", "E400", "e99999999999999999999"])))
_TEXTS = st.text(st.sampled_from('ab1.5:e"\\ \u00e9'), max_size=8).map(json.dumps)
_KEYS = st.sampled_from(['"a"', '"b"', '"1.5"', '"a:b"', '"e\\""'])
_JSON = st.recursive(
    st.one_of(_NUMBERS, _TEXTS, st.sampled_from(["true", "false", "null"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(_KEYS, inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{k}: {v}" for k, v in pairs) + "}")),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_any_json_reads_as_the_exact_reader_reads_it(text):
    """Random documents (fractions as written, exponents, huge integers, repeated keys, digits and colons in
    texts): the fast reader's value, to each Decimal's digits, or its error, is the exact reader's."""
    assert _read(parse_json, text) == _read(exact_json, text)


def test_every_format_reads_the_same_orders(engine, tmp_path):
    results = {}
    for fmt, write in WRITERS.items():
        run_batch(engine, write(tmp_path / f"orders.{fmt}", ORDERS), tmp_path / f"{fmt}.out")
        results[fmt] = [said(r) for r in outcomes(tmp_path / f"{fmt}.out")]
    assert all(r == EXPECTED for r in results.values())


def test_the_summary_keeps_a_few_invalid_record_numbers_and_counts_the_rest():
    summary = Summary()
    for number in range(1, 1001):
        summary.add(number, "NLR" if number % 2 else None)
    assert summary.invalid == 500 and summary.first_invalid == list(range(2, 42, 2))
    assert summary.render().endswith("500 NLR; 500 invalid (records 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, "
                                     "28, 30, 32, 34, 36, 38, 40, ...)")


@pytest.mark.parametrize("name, text, says", [
    ("deep.jsonl", "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ("deep.json", "[" + "[" * 100_000 + "]" * 100_001, "nested too deeply"),
    ("deep.yaml", "- " + "[" * 100_000 + "]" * 100_000 + "\n", "nesting depth"),
    ("bomb.yaml", "- id: X\n  a: &a [" + ", ".join(["lol"] * 10) + "]\n" + "".join(
        f"  b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n" for i in range(9)),
     "aliases expand to more than"),
])
def test_hostile_records_are_error_records(engine, tmp_path, name, text, says):
    (tmp_path / name).write_text(text)
    run_batch(engine, tmp_path / name, tmp_path / "out.jsonl")
    [result] = outcomes(tmp_path / "out.jsonl")
    assert result["record"] == 1 and says in result["error"]


def test_a_syntax_error_in_a_json_array_ends_the_reading_with_an_error_record(engine, tmp_path):
    text = json.dumps([GOOD_DE, GOOD_KP], indent=2)
    source = tmp_path / "orders.json"
    source.write_text(text[:-1] + ", {oops}]")
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [said(r) for r in results[:2]] == ["NLR", "PROHIBITED"]
    assert results[2]["record"] == 3 and "rest of the file is not read" in results[2]["error"]
    assert summary.exit_code == 2


def test_a_yaml_stream_of_documents_is_one_order_each(engine, tmp_path):
    source = tmp_path / "orders.yaml"
    source.write_text(yaml.safe_dump_all([GOOD_DE, UNKNOWN_COUNTRY, GOOD_KP], sort_keys=False))
    run_batch(engine, source, tmp_path / "out.jsonl")
    assert [said(r) for r in outcomes(tmp_path / "out.jsonl")] == ["NLR", "destination", "PROHIBITED"]


def test_csv_rows_with_the_same_id_in_a_row_are_one_order(engine, tmp_path):
    two_lines = order("CN", eccn="3A090.a") | {"id": "T-2"}
    two_lines["items"] = [two_lines["items"][0], {"sku": "X-2", "quantity": 2, "origin": "US", "eccn": "EAR99"}]
    source = write_csv(tmp_path / "orders.csv", [GOOD_DE, two_lines, GOOD_KP])
    run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [r["transaction_id"] for r in results] == ["A", "T-2", "F"]
    assert results[1] == engine.check(two_lines).model_dump(mode="json")


def test_csv_rows_of_one_order_that_disagree_are_an_error_naming_column_and_line(engine, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("id,destination,item.sku,item.quantity,item.eccn,item.origin,item.chip.tpp,item.chip.datacenter\n"
                      "T-1,CN,X-1,1,3A090.a,US,,\n"
                      "T-1,DE,X-2,1,,US,4992.5,true\n")
    run_batch(engine, source, tmp_path / "out.jsonl")
    [result] = outcomes(tmp_path / "out.jsonl")
    assert result["errors"] == [{"field": "destination", "line": 3,
                                 "message": "'DE' differs from 'CN' in an earlier row of the order; an order has one"}]


CSV_HEAD = "id,date,export_from,destination,end_user.name,end_user.country,item.sku,item.quantity,item.origin,item.eccn\n"
NIC = "{id},2026-11-28,US,CN,Example Customer Ltd,CN,NIC-1,1,US,5A992.c"  # cleared alone (NLR to China)
ACCELERATOR = "{id},2026-11-28,US,CN,Example Customer Ltd,CN,ACC-1,8,US,3A090.a"  # a licence to China


@pytest.mark.parametrize("broken", [ACCELERATOR + ",extra", ACCELERATOR.rsplit(",", 1)[0]])
def test_a_csv_order_with_a_row_that_cannot_be_read_is_an_error_never_a_determination(engine, tmp_path, broken):
    """Closed world: an order is checked only with all its rows.  The unreadable row fails the order whose id it
    has, whether it comes after that order's rows (T-1) or before them (T-3); other orders are checked."""
    source = tmp_path / "orders.csv"
    rows = [NIC.format(id="T-1"), broken.format(id="T-1"), NIC.format(id="T-2"), broken.format(id="T-3"),
            NIC.format(id="T-3")]
    source.write_text(CSV_HEAD + "\n".join(rows) + "\n")
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [(r["transaction_id"], r.get("decision"), r.get("line")) for r in results] == \
           [("T-1", None, 3), ("T-2", "NLR", None), ("T-3", None, 5)]
    assert "cells" in results[0]["error"] and "not checked without this row" in results[0]["error"]
    assert summary.exit_code == 2
    assert engine.check(validate_order(order("CN", eccn="5A992.c", sku="NIC-1"))).decision == Decision.NLR


@pytest.mark.parametrize("bad", ['"unclosed quote', '"quoted"then text', "x" * 140_000])
def test_a_csv_syntax_error_fails_the_order_being_read_and_ends_the_reading(engine, tmp_path, bad):
    """An unclosed quote used to swallow the rest of the file into one cell, and the order read so far was
    checked on its first rows; now the order is an error, and so is the unread rest."""
    source = tmp_path / "orders.csv"
    source.write_text(CSV_HEAD.replace("\n", ",item.description\n") + NIC.format(id="T-0") + ",nic\n"
                      + NIC.format(id="T-1") + ",nic\n" + ACCELERATOR.format(id="T-1") + f",{bad}\n"
                      + NIC.format(id="T-2") + ",nic\n")
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    assert [(r["record"] if "record" in r else None, r["transaction_id"], r.get("decision")) for r in results] == \
           [(None, "T-0", "NLR"), (2, "T-1", None), (3, None, None)]
    assert "malformed CSV" in results[1]["error"] and "the rest of the file is not read" in results[2]["error"]
    assert summary.exit_code == 2


@pytest.mark.parametrize("where", ["name", "id"])
def test_a_csv_row_that_is_not_utf8_fails_its_order_at_its_own_line(engine, tmp_path, where):
    """It was reported as a malformed header at line 1 (the text wrapper decodes ahead), and nothing was read."""
    rows = [NIC.format(id="T-1"), NIC.format(id="T-2"), ACCELERATOR.format(id="T-2"), NIC.format(id="T-3")]
    data = (CSV_HEAD + "\n".join(rows) + "\n").encode()
    lines = data.split(b"\n")  # the header, then a line a row: T-2's second row is line 4
    lines[3] = lines[3].replace(b"Example", b"Ex\xffample") if where == "name" else b"\xff" + lines[3]
    source = tmp_path / "orders.csv"
    source.write_bytes(b"\n".join(lines))
    summary = run_batch(engine, source, tmp_path / "out.jsonl")
    results = outcomes(tmp_path / "out.jsonl")
    said_ = [(r.get("transaction_id"), r.get("decision"), r.get("line")) for r in results]
    if where == "name":  # the row joins its order, which is not checked
        assert said_ == [("T-1", "NLR", None), ("T-2", None, 4), ("T-3", "NLR", None)]
    else:  # its id unreadable, it may be T-2's: T-2 is not checked on its first row alone
        assert said_ == [("T-1", "NLR", None), ("T-2", None, 4), (None, None, 4), ("T-3", "NLR", None)]
        assert "whose id cannot be read, may be a row of this order" in results[1]["error"]
    assert "not UTF-8 text" in results[1 if where == "name" else 2]["error"] and summary.exit_code == 2
    (tmp_path / "header.csv").write_bytes(b"id,destina\xfftion\n" + b"\n".join(lines[1:]))
    with pytest.raises(InputError, match="header.csv:1: the CSV header is not UTF-8 text"):
        read_records(tmp_path / "header.csv")


def test_csv_ids_that_differ_only_by_spaces_are_one_order(engine, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text(CSV_HEAD + NIC.format(id="T-1") + "\n" + ACCELERATOR.format(id=" T-1 ") + "\n")
    run_batch(engine, source, tmp_path / "out.jsonl")
    [result] = outcomes(tmp_path / "out.jsonl")
    assert [line["sku"] for line in result["lines"]] == ["NIC-1", "ACC-1"]
    assert result["decision"] == "LICENSE_REQUIRED"


def test_csv_cells_are_read_as_their_field_is_typed(tmp_path):
    assert CSV_COLUMNS["item.quantity"] == "number" and CSV_COLUMNS["item.chip.datacenter"] == "bool"
    assert CSV_COLUMNS["end_uses"] == "list" and CSV_COLUMNS["item.hs_code"] == "text"
    source = tmp_path / "orders.csv"
    source.write_text("id,destination,end_uses,item.sku,item.quantity,item.unit_value,item.hs_code,item.chip.datacenter\n"
                      "T-1,CN,datacenter; civil,0042,8,25000.50,0042,TRUE\n")
    [record] = list(read_records(source))
    item = record.data["items"][0]
    assert record.data["end_uses"] == ["datacenter", "civil"]
    assert item["sku"] == "0042" and item["hs_code"] == "0042" and item["quantity"] == 8
    assert str(item["unit_value"]) == "25000.50" and item["chip"]["datacenter"] is True


def test_an_unknown_csv_column_is_bad_input_before_any_record(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("id,destinaton\nT-1,CN\n")
    with pytest.raises(InputError, match="unknown column 'destinaton'"):
        read_records(source)


@pytest.mark.parametrize("name, text", [("e.jsonl", ""), ("e.json", "[]"), ("e.yaml", "[]\n"), ("e.csv", "id\n"),
                                        ("blank.jsonl", "\n\n")])
def test_an_empty_batch_is_a_clean_summary_and_exit_0(cli_lists, tmp_path, name, text):
    (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["check", "--batch", str(tmp_path / name), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0 and "0 orders: none checked" in result.output and "Traceback" not in result.output
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_the_cli_exit_code_is_the_most_restrictive_decision_or_2_for_any_invalid_record(cli_lists, tmp_path):
    out = str(tmp_path / "out.jsonl")
    good = write_jsonl(tmp_path / "good.jsonl", [GOOD_DE, GOOD_KP])
    result = CliRunner().invoke(main, ["check", "--batch", str(good), "--out", out])
    assert result.exit_code == 4 and "2 orders: 1 PROHIBITED, 1 NLR" in result.output
    bad = write_jsonl(tmp_path / "bad.jsonl", ORDERS)
    result = CliRunner().invoke(main, ["check", "--batch", str(bad), "--out", out])
    assert result.exit_code == 2 and "3 invalid (records 2, 3, 4)" in result.output
    assert len(outcomes(tmp_path / "out.jsonl")) == 5
    one = write_jsonl(tmp_path / "one.jsonl", [GOOD_KP])
    result = CliRunner().invoke(main, ["check", "--batch", str(one), "--out", out])
    assert result.exit_code == 4 and "1 order: 1 PROHIBITED;" in result.output


def test_results_to_a_directory_that_does_not_exist_is_exit_2(cli_lists, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [GOOD_DE])
    out = tmp_path / "nowhere" / "out.jsonl"
    result = CliRunner().invoke(main, ["check", "--batch", str(good), "--out", str(out), "--no-audit"])
    assert result.exit_code == 2 and f"--out {out}: cannot write there: No such file or directory" in result.output
    assert not out.parent.exists()


@pytest.mark.parametrize("args, says", [(["--batch", "x.jsonl"], "needs --out"),
                                        (["order.yaml", "--workers", "2"], "go with --batch"),
                                        (["--batch", "missing.jsonl", "--out", "o.jsonl"], "no such file"),
                                        (["--batch", "orders.txt", "--out", "o.jsonl"], "unknown batch format")])
def test_batch_usage_errors_are_exit_2(cli_lists, tmp_path, monkeypatch, args, says):
    (tmp_path / "orders.txt").write_text("")
    (tmp_path / "order.yaml").write_text("")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exit_code == 2 and says in result.output


def test_nothing_partial_on_a_crash(engine, tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "orders.jsonl", [GOOD_DE] * 200)
    checks = iter(range(10**6))
    real = engine.check

    def failing(txn, as_of=None):
        if next(checks) == 150:
            raise EngineError("the rule engine failed")
        return real(txn, as_of=as_of)
    monkeypatch.setattr(engine, "check", failing)
    with pytest.raises(EngineError):
        run_batch(engine, source, tmp_path / "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.jsonl"]


def test_workers_give_the_same_output_as_one_process(engine, tmp_path):
    orders = corpus(300, seed=9) + ORDERS
    source = write_jsonl(tmp_path / "orders.jsonl", orders)
    progress = []
    one = run_batch(engine, source, tmp_path / "one.jsonl")
    two = run_batch(engine, source, tmp_path / "two.jsonl", workers=2, progress=lambda n, size: progress.append(n))
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert one == two and one.records == len(orders) == sum(progress)


def test_workers_share_the_screening_index_the_parent_opened(list_store, tmp_path, monkeypatch):
    """The list store is opened once, before the fork: each worker opening its own would hold a copy of
    the screening index (some 100 MB) apiece."""
    from controls import Engine
    from controls.screening.parties import PartyScreener

    opened = tmp_path / "opened"
    open_store = PartyScreener.open.__func__

    def recording(cls, path):
        with opened.open("a") as log:  # a file: the workers are other processes
            log.write(f"{os.getpid()}\n")
        return open_store(cls, path)

    monkeypatch.setattr(PartyScreener, "open", classmethod(recording))
    engine = Engine.load(lists=list_store)  # lists not opened yet: no party checked
    source = write_jsonl(tmp_path / "orders.jsonl", corpus(40, seed=4))
    run_batch(engine, source, tmp_path / "out.jsonl", workers=2)
    assert opened.read_text().split() == [str(os.getpid())]


def test_check_many_yields_errors_in_place(engine):
    results = list(engine.check_many(ORDERS))
    assert [type(r).__name__ for r in results] == ["Determination", "InputError", "InputError", "InputError",
                                                   "Determination"]
    assert [r.record for r in results if isinstance(r, InputError)] == [2, 3, 4]
    assert [r.field for r in results if isinstance(r, InputError)] == EXPECTED[1:4]
    assert results[4].decision == Decision.PROHIBITED


def test_check_many_is_lazy(engine):
    def orders():
        yield GOOD_DE
        raise AssertionError("read ahead")
    assert next(engine.check_many(orders())).transaction_id == "A"


def test_check_of_a_bad_dict_raises_input_error_naming_the_field(engine):
    with pytest.raises(InputError) as info:
        engine.check(WRONG_TYPE)
    assert info.value.field == "items.0.quantity" and info.value.record is None
    assert "items.0.quantity: expected a number" in str(info.value)
    assert [p.field for p in info.value.problems] == ["items.0.quantity"]


def test_dask_cluster_gives_the_same_output_as_the_local_run(engine, tmp_path):
    distributed = pytest.importorskip("distributed")
    source = write_jsonl(tmp_path / "orders.jsonl", corpus(150, seed=3) + ORDERS)
    run_batch(engine, source, tmp_path / "local.jsonl")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        summary = run_batch(engine, source, tmp_path / "dask.jsonl", scheduler=cluster.scheduler_address)
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "dask.jsonl").read_bytes()
    assert summary.first_invalid == [152, 153, 154]


def test_a_json_file_may_hold_one_order_and_a_csv_a_byte_order_mark(engine, tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(GOOD_KP, indent=2))
    run_batch(engine, tmp_path / "one.json", tmp_path / "out.jsonl")
    assert [said(r) for r in outcomes(tmp_path / "out.jsonl")] == ["PROHIBITED"]
    source = write_csv(tmp_path / "orders.csv", [GOOD_KP])
    source.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    run_batch(engine, source, tmp_path / "out.jsonl")
    assert [said(r) for r in outcomes(tmp_path / "out.jsonl")] == ["PROHIBITED"]


def test_json_lines_from_stdin(cli_lists, tmp_path):
    result = CliRunner().invoke(main, ["check", "--batch", "-", "--out", str(tmp_path / "out.jsonl")],
                                input="\n".join(json.dumps(o) for o in (GOOD_DE, UNKNOWN_COUNTRY)) + "\n")
    assert result.exit_code == 2 and [said(r) for r in outcomes(tmp_path / "out.jsonl")] == ["NLR", "destination"]


def test_every_csv_column_is_documented():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("A CSV batch"):readme.index("Restricted-party screening")]
    roles = ("end_user", "ultimate_consignee", "intermediate_consignee", "purchaser")
    missing = [c for c in CSV_COLUMNS if f"`{c}`" not in section
               and not (c.split(".")[0] in roles and f"`{c.split('.')[0]}.*`" in section and f"`{c.split('.')[1]}`" in section)]
    assert missing == []


def test_a_worker_that_dies_fails_the_run_and_writes_nothing(engine, tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "orders.jsonl", [GOOD_DE] * 50 + [GOOD_KP] + [GOOD_DE] * 50)
    real = engine.check

    def dying(txn, as_of=None):
        if txn.id == "F":
            os._exit(134)  # as the C engine does when it aborts
        return real(txn, as_of=as_of)
    monkeypatch.setattr(engine, "check", dying)
    with pytest.raises(EngineError, match="a worker process died"):
        run_batch(engine, source, tmp_path / "out.jsonl", workers=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.jsonl"]
