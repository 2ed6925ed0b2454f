"""The engine adapter's promises: no state between checks, many threads, many sessions."""
import sys
import threading
from itertools import islice
from pathlib import Path

from conftest import order, remembering

from controls import Decision, Engine, Transaction

CASES = [
    order("CN", chip={"tpp": 15832, "die_area_mm2": 814, "datacenter": True}),
    order("DE", chip={"tpp": 15832, "die_area_mm2": 814, "datacenter": True}),
    order("KP", eccn="EAR99"),
    order("CN"),
    order("MY", eccn="3A090.a", parties=[{"role": "end_user", "name": "X", "country": "MY",
                                           "headquarters_country": "CN"}]),
]


def summary(result):
    return result.decision, sorted((f.rule, f.line, f.party) for f in result.findings)


def test_no_state_leaks_between_checks(engine):
    engine = remembering(engine, size=0)  # every line to the rule network
    first = [summary(engine.check(c)) for c in CASES]
    again = [summary(engine.check(c)) for c in reversed(CASES)][::-1]
    assert first == again
    assert first[1][0] == Decision.NLR  # the China check just before did not leak into Germany


def test_more_checks_than_the_engine_has_sessions(engine):
    # durable-rules holds at most 1,024 live sessions; each check must delete its own
    for _ in range(1100):
        assert engine.check(CASES[0]).decision == Decision.LICENSE_REQUIRED


def test_concurrent_checks_from_many_threads(engine):
    expected = [summary(engine.check(c)) for c in CASES]
    failures = []

    def worker(offset):
        for i in range(100):
            index = (i + offset) % len(CASES)
            if summary(engine.check(CASES[index])) != expected[index]:
                failures.append(index)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_a_transaction_matching_no_rule_is_a_normal_result(engine):
    result = engine.check(order("FR", eccn="EAR99"))
    assert result.decision == Decision.NLR and [f.rule for f in result.findings] == ["chipgate.cn-ecl.not-reached"]


def test_every_finding_names_its_rule_and_citation(engine):
    for case in CASES:
        for finding in engine.check(case).findings:
            assert finding.rule in engine.rules or finding.rule.startswith("chipgate.")
            assert finding.citation


def test_two_engines_in_one_process_are_independent(tmp_path):
    other = Engine.load()
    assert summary(other.check(CASES[0])) == summary(Engine.load().check(CASES[0]))


def test_library_round_trip_through_json(engine):
    txn = Transaction.model_validate(CASES[0])
    result = engine.check(txn)
    again = type(result).model_validate_json(result.model_dump_json())
    assert again == result


def test_a_check_leaves_nothing_behind_in_the_reused_session(engine):
    """Every check reuses the network's session and retracts its facts: checking the same orders in
    the opposite order, after each other, gives the same determinations."""
    engine = remembering(engine, size=0)  # every line to the rule network
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from corpus import corpus

    orders = corpus(300, seed=7)
    first = [engine.check(o).model_dump_json() for o in orders]
    again = [engine.check(o).model_dump_json() for o in reversed(orders)]
    assert first == list(reversed(again))


def test_skipping_strata_no_rule_can_match_changes_no_determination(engine, monkeypatch):
    """The stratum filter only skips facts the engine would have matched against nothing: the bench
    corpus and the fuzz orders (foreign-made lines, FDP and de minimis facts, every date) give the same
    determinations with every stratum sent."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from corpus import corpus
    from test_fuzz import generated_orders

    orders = corpus(600, seed=3) + [txn for _, txn in islice(generated_orders(["Example Listed Co"]), 600)]
    engine = remembering(engine, size=0)  # every line to the rule network
    filtered = [engine.check(o).model_dump_json() for o in orders]
    monkeypatch.setattr(engine, "_prefilter", False)
    assert [engine.check(o).model_dump_json() for o in orders] == filtered


def test_a_us_origin_line_is_sent_to_fewer_strata_than_a_foreign_made_one(engine, monkeypatch):
    """The filter's point: the FDP and de minimis strata never see a U.S.-origin line."""
    engine = remembering(engine, size=0)  # every line to the rule network
    admits = engine._compiled.line_filter.admits

    def strata_sent(txn: dict) -> set[int]:
        sent: set[int] = set()

        def counting(stratum, view, day):
            if admits(stratum, view, day):
                sent.add(stratum)
                return True
            return False

        with monkeypatch.context() as patch:
            patch.setattr(engine._compiled.line_filter, "admits", counting)
            engine.check(txn)
        return sent

    foreign = order("CN", eccn="3A090.a", origin="TW", direct_product_of=["3E001"])
    foreign["export_from"] = "TW"
    assert len(strata_sent(order("CN", eccn="3A090.a"))) < len(strata_sent(foreign))
