"""chipgate explain on foreign-made lines: each FDP and de minimis rule considered, prong by prong,
and the de minimis arithmetic, on the worked examples."""
from decimal import Decimal
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls.engine.chain import chains
from controls.models import Transaction
from controls.report import de_minimis_words


def example(name: str) -> Transaction:
    return Transaction.model_validate(yaml.safe_load((REPO / "examples" / f"{name}.yaml").read_text()))


def chain_of(engine, name: str):
    txn = example(name)
    return chains(engine, txn, engine.check(txn))[0]


def rule(chain, rule_id):
    return next(r for r in chain.rules if r.rule == rule_id)


def prong(considered, name):
    return next(p for p in considered.prongs if p.name.startswith(name))


def test_footnote_1_chip_met_by_its_technology_and_the_listed_end_user(engine):
    chain = chain_of(engine, "fdp-footnote-1-chip")
    fn1 = rule(chain, "ear.734.9.e1.footnote-1")
    assert fn1.fired and fn1.in_force and all(p.met for p in fn1.prongs)
    assert any("item.direct_product_of = " in r and "3E001" in r and "(in fdp-cat345-technology)" in r
               for r in prong(fn1, "the item").reasons)
    assert any("fn1" in r for r in prong(fn1, "a party").reasons)
    fn4 = rule(chain, "ear.734.9.e2.footnote-4")  # same technology, but Huawei carries no footnote 4
    assert not fn4.fired and prong(fn4, "the item").met and not prong(fn4, "a party").met
    h = rule(chain, "ear.734.9.h.destination")  # destination in scope, the ECCN not
    assert not prong(h, "the item").met and prong(h, "the destination").met


def test_accelerator_to_china_under_734_9_h_and_to_japan_not(engine):
    cn = rule(chain_of(engine, "fdp-accelerator-cn"), "ear.734.9.h.destination")
    assert cn.fired and prong(cn, "the item").met and prong(cn, "the destination").met
    jp_chain = chain_of(engine, "fdp-accelerator-jp")
    jp = rule(jp_chain, "ear.734.9.h.destination")
    assert not jp.fired and prong(jp, "the item").met and not prong(jp, "the destination").met
    assert any("destination = JP" in r for r in prong(jp, "the destination").reasons)
    assert rule(jp_chain, "ear.734.4.d.under-de-minimis").fired


def test_sme_tool_zero_de_minimis_by_its_us_ic(engine):
    chain = chain_of(engine, "fdp-sme-tool-cn")
    a8 = rule(chain, "ear.734.4.a8.sme-with-us-ic")
    assert a8.fired and any("contains_us_ic = " in r and "3A991" in r for r in prong(a8, "the item").reasons)
    assert chain.de_minimis.share == 5 and chain.de_minimis.over is False


@pytest.mark.parametrize("name, share, over", [("de-minimis-20-de", 20, False), ("de-minimis-30-de", 30, True)])
def test_de_minimis_arithmetic_is_exact_with_its_level(engine, name, share, over):
    dm = chain_of(engine, name).de_minimis
    assert dm.share == share and dm.level == Decimal(25) and dm.over is over
    assert dm.citation == "15 CFR 734.4(d)"
    text = de_minimis_words(dm)
    assert f"= {share} % exactly, {'over' if over else 'not over'} the 25 % level (15 CFR 734.4(d))" in text


def test_de_minimis_at_exactly_the_level_is_not_over_and_e1_uses_10(engine):
    txn = example("de-minimis-20-de").model_copy(deep=True)
    txn.items[0].unit_value, txn.items[0].us_content_value = Decimal("1311.12"), Decimal("327.78")
    dm = chains(engine, txn, engine.check(txn))[0].de_minimis
    assert dm.share == Fraction(25) and dm.over is False
    txn.destination = "SY"
    dm = chains(engine, txn, engine.check(txn))[0].de_minimis
    assert dm.level == Decimal(10) and dm.over is True and dm.citation == "15 CFR 734.4(c)"
    txn.items[0].us_content_value = Decimal("327.79")
    assert "about 25.000763 %" in de_minimis_words(chains(engine, txn, engine.check(txn))[0].de_minimis)


def test_rules_not_in_force_are_named_as_such(engine):
    txn = example("fdp-accelerator-cn")
    chain = chains(engine, txn, engine.check(txn, as_of=__import__("datetime").date(2022, 1, 3)))[0]
    assert not rule(chain, "ear.734.9.h.destination").in_force


def test_explain_prints_the_chain(cli_lists):
    out = CliRunner().invoke(main, ["explain", str(REPO / "examples" / "fdp-accelerator-jp.yaml")]).output
    assert "Foreign-made: the de minimis and foreign-direct-product rules" in out
    assert "De minimis: controlled U.S.-origin content USD 0 of unit value USD 25,000 = 0 % exactly" in out
    assert "[not met] 15 CFR 734.9(h)(2)(i)" in out
    assert "the destination or end use: failed - the destination is Japan (JP), not in" in out
    plain = CliRunner().invoke(main, ["check", str(REPO / "examples" / "fdp-accelerator-jp.yaml")]).output
    assert "Foreign-made:" not in plain  # only explain pays for the chain
