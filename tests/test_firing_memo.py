"""A line answered from memory gets exactly the engine's answer (controls/engine/memo.py)."""
import gc
import sys
from fractions import Fraction
from itertools import islice
from pathlib import Path

import pytest
from conftest import chip, fired, order, remembering

from controls.models import Decision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import corpus, unseen_parties  # noqa: E402


def answers(engine, orders) -> list[str]:
    return [engine.check(o).model_dump_json() for o in orders]


@pytest.fixture(scope="module")
def orders():
    """Repeated items and customers (the bench corpus), new customers, and generated orders of every
    kind of line: foreign-made, FDP and de minimis facts, bare ECCNs, listed parties, every date."""
    from test_fuzz import generated_orders

    mixed = corpus(500, seed=11)
    return mixed + unseen_parties(mixed[:50]) + [txn for _, txn in islice(generated_orders(["Example Listed Co"]),
                                                                          500)]


def test_answers_from_memory_are_the_engines_answers(engine, orders):
    by_engine = answers(remembering(engine, size=0), orders)
    memo = remembering(engine)
    assert answers(memo, orders) == by_engine  # lines repeat within the orders: some answered from memory
    assert answers(memo, orders) == by_engine  # every line answered from memory
    assert 0 < len(memo._memo) < sum(len(o["items"]) for o in orders)


def test_a_determination_shares_no_list_or_dict_with_another_or_the_engine(engine, orders):
    """The result models are made from the engine's own values (a rule's sources and derived facts, the
    memory's explanations, the lists screened against), which their validation copies: a caller who alters
    a determination alters no other, and not what the engine answers next."""
    memo = remembering(engine)
    first = [memo.check(o) for o in orders[:300]]
    expected = [d.model_dump_json() for d in first]
    for d in first:
        d.warnings.append("altered")
        d.lists.clear()
        d.jurisdictions.clear()
        for f in d.findings:
            f.because.append("altered")
            f.sources.append("altered")
            f.matches.clear()
        for line in d.lines:
            line.jurisdictions.clear()
            for derivation in line.derived:
                derivation.facts["altered"] = True
                derivation.because.append("altered")
        for screening in d.screenings:
            screening.lists.append("altered")
            screening.entries.append("altered")
    assert [memo.check(o).model_dump_json() for o in orders[:300]] == expected


def test_explanations_from_memory_are_those_made_anew(engine, orders):
    """An explanation is remembered by its condition, the values of the facts it names and the set epoch,
    not by the probe answers it reads: with a memory of two explanations (nearly every one made anew, and
    evicted), every determination is byte for byte the one the engine's own explanations give."""
    from controls.engine.explain import Explainer

    forgetful = remembering(engine, size=0)
    forgetful._because = Explainer(engine._compiled.probe_keys, engine._resolver.source_of, size=2)
    assert answers(forgetful, orders) == answers(remembering(engine, size=0), orders)
    assert len(forgetful._because._memory) == 2


def test_memory_in_another_order_gives_the_same_answers(engine, orders):
    """What a line gets back does not depend on which lines shared its batch, or came before it."""
    memo = remembering(engine)
    answers(memo, orders[::-1])
    assert answers(memo, orders) == answers(remembering(engine, size=0), orders)


def test_a_day_across_a_rule_window_is_not_answered_from_memory(engine):
    """The HBM rule of 89 FR 96790 took effect on 2024-12-31: the same line on the day before and on
    the day itself gets different rules, with or without the memo; two days inside one window share an
    answer."""
    hbm = {"memory_bandwidth_density": 3.5}
    memo = remembering(engine)
    before, on_the_day = (memo.check(order("CN", date=day, chip=hbm)) for day in ("2024-12-30", "2024-12-31"))
    assert "ear.742.6.a6.hbm.2024" in fired(on_the_day) - fired(before)
    fresh = remembering(engine, size=0)
    for day, result in (("2024-12-30", before), ("2024-12-31", on_the_day)):
        assert result == fresh.check(order("CN", date=day, chip=hbm))
    entries = len(memo._memo)
    memo.check(order("CN", date="2025-01-01", chip=hbm))  # the same window and set epoch as the 31st
    assert len(memo._memo) == entries


def test_a_listed_party_is_not_answered_from_an_unlisted_ones_memory(engine):
    memo = remembering(engine)
    line = {"eccn": "3A090.a"}
    clear = memo.check(order("DE", **line))
    listed = memo.check(order("DE", parties=[{"role": "end_user", "name": "Huawei Technologies Co., Ltd.",
                                             "country": "CN"}], **line))
    assert listed.decision != clear.decision
    assert listed == remembering(engine, size=0).check(order(
        "DE", parties=[{"role": "end_user", "name": "Huawei Technologies Co., Ltd.", "country": "CN"}], **line))


def test_the_memory_is_bounded(engine):
    memo = remembering(engine, size=8)
    answers(memo, corpus(60, seed=5))
    assert len(memo._memo) == 8


def test_an_entry_holds_its_key_at_the_keys_size(engine):
    """orjson hands back its whole write buffer (some 4 KB) however short the text: a full memo of such
    keys would hold some 200 MB, not the few MB its keys take.  Firings and line outcomes together."""
    import tracemalloc

    memo = remembering(engine)
    orders = corpus(150, seed=12)
    answers(memo, orders[:5])

    def entries() -> int:
        return len(memo._memo) + len(memo._memo._outcomes)

    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/engine/memo.py")])
        kept = entries()
        answers(memo, orders)
        after = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/engine/memo.py")])
    finally:
        tracemalloc.stop()
    held = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert entries() - kept > 100
    assert held / (entries() - kept) < 1500


def test_every_comparison_with_the_day_splits_the_days_it_can_tell_apart():
    """A day is remembered by the interval between the days the network compares with; any operator
    gives one answer for every day inside an interval."""
    from controls.engine.memo import _days_tested

    network = {"r": {"all": [{"line": {"$and": [{"kind": "line"}, {"$gte": {"day": 10}}, {"$lt": {"day": 20}},
                                                {"$or": [{"day": 30}, {"$gt": {"day": 40}}]}]}}]}}
    assert _days_tested(network) == {10, 20, 30, 31, 41}


HUAWEI = {"role": "end_user", "name": "Huawei Technologies Co., Ltd.", "country": "CN"}


def test_a_determination_its_caller_changes_changes_no_later_answer(engine):
    """Each check makes its own findings, derivations and line results from what the memory keeps:
    a caller who edits one determination finds the next one as the engine made it."""
    memo = remembering(engine)
    txn = order("CN", parties=[HUAWEI], **chip(tpp=5000, die_area_mm2=600, datacenter=True))
    first = memo.check(txn)
    expected = first.model_dump_json()
    assert any(f.party for f in first.findings) and any(f.party is None for f in first.findings)
    assert first.lines[0].derived
    for finding in first.findings:
        finding.because.append("edited")
        finding.sources.clear()
        finding.matches.clear()
        finding.overcome_by, finding.line = "edited", 7
    for line in first.lines:
        for derivation in line.derived:
            derivation.because.append("edited")
            derivation.facts["item.eccn"] = "edited"
        line.derived.clear()
        line.jurisdictions.clear()
    assert memo.check(txn).model_dump_json() == expected  # from memory
    assert memo.check(txn).model_dump_json() == expected


def test_each_line_outcome_is_kept_once_and_answers_every_line_like_it(engine):
    """Two lines alike share one remembered outcome, each with its own line number; a repeat adds nothing."""
    memo = remembering(engine)
    txn = order("CN", **chip(tpp=5000, die_area_mm2=600, datacenter=True))
    txn["items"] = [txn["items"][0], {**txn["items"][0], "sku": "X-2"}]
    first = memo.check(txn)
    assert len(memo._memo._outcomes) == 1
    assert [f.line for f in first.findings if f.rule.startswith("ear.")] == [0, 1]
    assert memo.check(txn) == first == remembering(engine, size=0).check(txn)
    assert len(memo._memo._outcomes) == 1


def test_a_line_outcome_serves_every_day_the_rules_cannot_tell_apart(engine):
    """The network compares the day only with rule windows, and explanations read its set epoch: two days
    between the same windows share the line's firings and its outcome."""
    memo = remembering(engine)
    hbm = {"memory_bandwidth_density": 3.5}
    memo.check(order("CN", date="2024-12-31", chip=hbm))
    remembered = len(memo._memo), len(memo._memo._outcomes)
    later = memo.check(order("CN", date="2025-01-01", chip=hbm))
    assert (len(memo._memo), len(memo._memo._outcomes)) == remembered
    assert later == remembering(engine, size=0).check(order("CN", date="2025-01-01", chip=hbm))


@pytest.mark.parametrize("before, on", [("2025-11-08", "2025-11-09"),  # MOFCOM No. 72 suspends No. 46 clause 2
                                        ("2026-11-27", "2026-11-28")])  # its end, unconfirmed: a hold
def test_a_remembered_line_is_decided_on_its_own_day_where_a_rule_is_suspended(engine, before, on):
    """Whether a rule is enforced is judged at each check: a day of the same period whose rule is suspended
    (or no longer) shares the outcome, not its decision."""
    gallium = {"id": "CN-1", "export_from": "CN", "destination": "US", "parties": [],
               "items": [{"sku": "GA-1", "quantity": 1, "origin": "CN", "material": "gallium"}]}
    memo, plain = remembering(engine), remembering(engine, size=0)
    assert memo.check({**gallium, "date": before}) == plain.check({**gallium, "date": before})
    outcomes = len(memo._memo._outcomes)
    answer = memo.check({**gallium, "date": on})
    assert len(memo._memo._outcomes) == outcomes
    assert answer == plain.check({**gallium, "date": on})
    assert answer.decision != plain.check({**gallium, "date": before}).decision


def test_equal_numbers_written_differently_share_an_outcome(engine):
    """Lines are told apart by their values' equality, as explanations print numbers by their value."""
    memo = remembering(engine)
    memo.check(order("CN", **chip(tpp=5000, die_area_mm2=600, datacenter=True)))
    outcomes = len(memo._memo._outcomes)
    same = order("CN", **chip(tpp=5000.0, die_area_mm2=600.00, datacenter=True))
    assert memo.check(same) == remembering(engine, size=0).check(same)
    assert len(memo._memo._outcomes) == outcomes


def test_no_memory_keeps_no_line_outcome(engine):
    memo = remembering(engine, size=0)
    answers(memo, corpus(20, seed=5))
    assert len(memo._memo._outcomes) == 0
    bounded = remembering(engine, size=8)
    answers(bounded, corpus(60, seed=5))
    assert len(bounded._memo._outcomes) == 8


def test_a_line_decided_from_memory_is_decided_as_the_engine_decides_it(engine):
    """The verdict kept for a line gives its decisions and marks the requirement a licence exception
    overcomes (LVS, 15 CFR 740.3), as the decision arithmetic does on a fresh check."""
    memo = remembering(engine)
    txn = order("SG", date="2026-11-30", eccn="3C001", unit_value=3000)
    first = memo.check(txn)
    assert first.decision == Decision.LICENSE_EXCEPTION
    assert next(f for f in first.findings if f.rule == "ear.738.chart.ns2").overcome_by == "ear.740.3.lvs-3000"
    (key,) = memo._memo._outcomes
    assert memo._memo.outcome(key)[-1] is not None  # the verdict
    again = memo.check(txn)
    assert again.model_dump_json() == first.model_dump_json() \
        == remembering(engine, size=0).check(txn).model_dump_json()


def test_threads_sharing_a_small_memory_get_the_engines_answers(engine, orders):
    """Eight threads check the same orders through a memory of 8 lines, evicted all the time: every
    answer is the engine's, whichever thread remembered or evicted what."""
    import threading

    chosen = orders[:40] + orders[-40:]
    expected = answers(remembering(engine, size=0), chosen)
    memo = remembering(engine, size=8)
    wrong = []

    def worker(offset: int) -> None:
        for n in range(len(chosen)):
            k = (n + offset) % len(chosen)
            if memo.check(chosen[k]).model_dump_json() != expected[k]:
                wrong.append(k)

    threads = [threading.Thread(target=worker, args=(n * 10,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(memo._memo._outcomes) == 8


def test_conflicts_and_findings_of_remembered_lines_keep_the_engines_order():
    """Conflicts come after all findings, stratum by stratum and line by line, whether each line was
    remembered or not (a pack whose two classifiers give a 5,000 TPP chip different ECCNs)."""
    from controls import Engine

    pack = Engine.load(Path(__file__).resolve().parent / "packs" / "conflicting-classifiers")
    txn = order("CN", date="2026-01-01", **chip(tpp=5000, datacenter=True))
    line = txn["items"][0]
    txn["items"] = [line, {**line, "sku": "X-2", "chip": {"tpp": 4500, "datacenter": True}}, {**line, "sku": "X-3"}]
    expected = remembering(pack, size=0).check(txn).model_dump_json()
    memo = remembering(pack)
    memo.check({**txn, "items": [txn["items"][1]]})  # the 4,500 TPP line remembered, the others not
    assert memo.check(txn).model_dump_json() == expected
    assert memo.check(txn).model_dump_json() == expected
    assert [f.line for f in memo.check(txn).findings if f.rule == "chipgate.conflicting-derivation"] == [0, 2]


def test_screening_names_keeps_no_line_outcome(engine):
    """Each name screened would be an outcome of its own: screening many names must not push orders' lines
    out of the memory."""
    memo = remembering(engine)
    txn = order("CN", **chip(tpp=5000, die_area_mm2=600, datacenter=True))
    memo.check(txn)
    outcomes = len(memo._memo._outcomes)
    screened = [memo.screen(f"Trading Company {n}", "CN") for n in range(20)]
    assert len(memo._memo._outcomes) == outcomes
    assert screened[0] == remembering(engine, size=0).screen("Trading Company 0", "CN")


def test_lines_and_parties_differing_only_in_facts_no_rule_reads_share_an_outcome(engine):
    """A line's quantity or SKU and a customer's name are read by no rule: another quantity for another
    customer is answered from the same outcome, and as the engine answers it."""
    memo = remembering(engine)
    memo.check(order("CN", quantity=4, **chip(tpp=5000, die_area_mm2=600, datacenter=True)))
    outcomes = len(memo._memo._outcomes)
    other = order("CN", quantity=60, sku="X-9", parties=[{"role": "end_user", "name": "Other Buyer Co",
                                                          "country": "CN"}],
                  **chip(tpp=5000, die_area_mm2=600, datacenter=True))
    assert memo.check(other) == remembering(engine, size=0).check(other)
    assert len(memo._memo._outcomes) == outcomes
    read = {"item.quantity", "party.name", "party.role"} & {f for side in engine._outcome_fields for fs in side
                                                            for f in fs}
    assert not read, f"a rule now reads {read}: pick facts no rule reads"


def test_a_party_fact_a_rule_reads_splits_the_outcome(engine):
    """The customer's headquarters is read (rules on parties headquartered in D:5 countries): a customer
    headquartered elsewhere is another outcome."""
    memo = remembering(engine)
    item = chip(tpp=5000, die_area_mm2=600, datacenter=True)
    here = [{"role": "end_user", "name": "Example Customer Ltd", "country": "MY", "headquarters_country": "MY"}]
    there = [{**here[0], "headquarters_country": "CN"}]
    memo.check(order("MY", parties=here, **item))
    outcomes = len(memo._memo._outcomes)
    assert memo.check(order("MY", parties=there, **item)) == remembering(engine, size=0).check(
        order("MY", parties=there, **item))
    assert len(memo._memo._outcomes) == outcomes + 1


def test_every_rule_pack_case_is_answered_from_memory_as_without_it(engine):
    """The rule packs' cases reach facts the bench corpus never has (notices, letters, VEU, HBM, owners, China's
    controls, paragraph readings): checked in turn with one memory, then again in reverse, so that lines are
    answered from other cases' outcomes, every answer is the engine's without memory, byte for byte."""
    from controls.engine.authoring import CaseScreener
    from controls.orders import validate_order

    screener = CaseScreener()
    memo = remembering(engine).with_screener(screener)
    plain = remembering(engine, size=0).with_screener(screener)
    cases = []
    for file, case in engine.rulebook.cases:
        if case.lists != "store":
            try:
                cases.append((f"{file}: {case.name}", validate_order(case.transaction), case))
            except ValueError:
                continue  # a case of an invalid order: nothing is checked
    kept = []
    for run in (cases, cases[::-1]):
        for name, txn, case in run:
            screener.stubs = case.screening
            assert memo.check(txn, as_of=case.as_of).model_dump_json() == \
                plain.check(txn, as_of=case.as_of).model_dump_json(), name
        kept.append(len(memo._memo._outcomes))
    assert len(cases) > 250
    assert kept[0] == kept[1]  # the second pass answered from memory alone


def test_a_partys_facts_and_a_lines_are_told_apart_by_their_prefix(engine):
    """The outcome key reads a party's values for its ``party.`` facts only, and a line's for the rest
    (``outcome_fields``): that holds while every party fact, and no line fact, starts with ``party.``."""
    from controls.engine.memo import PARTY
    from controls.facts.builder import line_values, party_values
    from controls.orders import validate_order
    from controls.screening.parties import PartyScreen

    seen = 0
    for _, case in engine.rulebook.cases:
        try:
            txn = validate_order(case.transaction)
        except ValueError:
            continue
        for item in txn.items:
            assert not [k for k in line_values(txn, item) if k.startswith(PARTY)]
        for party in txn.parties:
            assert [k for k in party_values(party, PartyScreen(screened=True).facts()) if not k.startswith(PARTY)] == []
            seen += 1
    assert seen > 200


def test_the_memory_holds_nothing_the_garbage_collector_walks(engine, orders):
    """A full memory, were its keys and entries objects the collector tracks, would be walked by its
    collections, a stall of every check in the process, and would hide its own growth from them (each
    entry evicted counts as one fewer new object): every key and entry is one bytes object, never tracked,
    from the moment it is kept, and reads back as a tuple of plain values."""
    memo = remembering(engine)
    answers(memo, orders)
    memories = memo._memo._answers, memo._memo._outcomes
    assert all(len(memory) > 100 for memory in memories)
    for memory in memories:
        assert all(type(key) is bytes and type(entry) is bytes for key, entry in memory.items())
        assert not any(map(gc.is_tracked, [*memory, *memory.values()]))
    assert all(plain(memo._memo.outcome(key)) for key in memories[1])


def test_equal_keys_pack_alike_whatever_objects_hold_their_values():
    """A key's texts may be one object twice, two equal objects, or interned: packed, all are one key."""
    import sys

    from controls.engine.memo import _packed

    text = "".join(["C", "N"])
    shared, apart, interned = (1, text, text, None), (1, text, "".join(["C", "N"]), None), (1, sys.intern(text), "CN", None)
    assert _packed(shared) == _packed(apart) == _packed(interned)


def test_an_outcome_key_reads_numbers_by_their_exact_value(engine):
    """A number in an outcome key is its exact ratio: equal values share an entry, whatever their type
    (a share computed as a Fraction, an amount read as a Decimal), and values a hair apart do not."""
    from decimal import Decimal

    from controls.engine.memo import _ratio

    assert _ratio(Decimal("5000")) == _ratio(Decimal("5000.00")) == _ratio(Fraction(5000)) == _ratio(5000)
    assert _ratio(Fraction(1, 3)) != _ratio(Decimal("0.3333333333333333333333333333"))
    assert _ratio(Decimal("1E+3")) == (1000, 1) and _ratio(None) is None and _ratio(True) is True
    memo = remembering(engine)
    for share in (0, 100, 20000):  # U.S. content a Fraction of the value (item.us_content_pct)
        txn = order("CN", eccn="3A090.a", origin="TW", unit_value=25000, us_content_value=share)
        assert memo.check(txn) == remembering(engine, size=0).check(txn)
    assert len(memo._memo._outcomes) == 3


def plain(value) -> bool:
    """Made of texts, numbers, None and tuples of them only."""
    if type(value) is tuple:
        return all(map(plain, value))
    return value is None or type(value) in (str, int, float, bool)
