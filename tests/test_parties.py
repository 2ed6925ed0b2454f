"""Restricted-party screening inside checks, on the real imported lists and the bundled rules."""
import datetime as dt
import json

import pytest
import yaml
from click.testing import CliRunner
from conftest import CSL_FILE, ECFR_FILE, fired, order

from cli import main
from controls import Decision, Engine, Party
from controls.lists.store import ListStore

HUAWEI = "Huawei Technologies Co., Ltd."


def party(name, country="CN", role="end_user", **more):
    return {"role": role, "name": name, "country": country, **more}


def first_entry(list_store, list_name, **where):
    entries = ListStore(list_store).screening_lists()[list_name]
    return next(e for e in entries if all(getattr(e, k) == v for k, v in where.items()))


def test_entity_list_party_needs_a_licence_for_ear99(engine):
    result = engine.check(order("CN", eccn="EAR99", parties=[party("Huawei Tech Co Ltd")]))
    assert result.decision == Decision.LICENSE_REQUIRED
    finding = next(f for f in result.findings if f.rule == "ear.744.11.entity-list")
    assert finding.party == "end_user" and finding.citation.startswith("15 CFR 744.11")
    top = finding.matches[0]
    assert (top.list, top.entry, top.score) == ("Entity List", HUAWEI, 1.0)
    assert finding.review_policy == top.review_policy and "denial" in top.review_policy.lower()
    assert result.lists and all(s.digest for s in result.lists)


def test_a_name_in_han_characters_is_screened(engine):
    result = engine.check(order("CN", eccn="EAR99", parties=[party("华为技术有限公司")]))
    assert "ear.744.11.entity-list" in fired(result)


def test_only_similar_name_is_hold_not_licence(engine):
    result = engine.check(order("CN", eccn="EAR99", parties=[party("Huawey Technologys")]))
    assert result.decision == Decision.HOLD
    finding = next(f for f in result.findings if f.rule == "screening.possible-match")
    assert finding.matches and finding.matches[0].entry == HUAWEI and finding.matches[0].strength == "possible"
    assert "ear.744.11.entity-list" not in fired(result)


@pytest.mark.parametrize("name", ["Siemens AG", "Toyota Motor Corporation", "Nestle S.A."])
def test_unrelated_companies_are_clear(engine, name):
    assert engine.check(order("DE", eccn="EAR99", parties=[party(name, "DE")])).decision == Decision.NLR


def test_denied_person_is_prohibited(engine, list_store):
    entry = first_entry(list_store, "Denied Persons List")
    result = engine.check(order("DE", eccn="EAR99", parties=[party(entry.name, "DE")]))
    assert result.decision == Decision.PROHIBITED
    finding = next(f for f in result.findings if f.rule == "ear.736.2.b4.denied-persons")
    assert any(m.entry_id == entry.entry_id for m in finding.matches)


def test_unverified_list_party_is_hold(engine, list_store):
    entry = first_entry(list_store, "Unverified List", country="CN")
    result = engine.check(order("CN", eccn="EAR99", parties=[party(entry.name)]))
    assert "ear.744.15.unverified-list" in fired(result)
    assert result.decision in (Decision.HOLD, Decision.LICENSE_REQUIRED)  # some UVL names are also listed elsewhere


def test_without_lists_parties_are_hold_with_a_warning(tmp_path):
    engine = Engine.load(lists=tmp_path / "empty")
    result = engine.check(order("DE", eccn="EAR99", parties=[party("Siemens AG", "DE")]))
    assert result.decision == Decision.HOLD
    assert "screening.lists-not-imported" in fired(result)
    assert any("no restricted-party lists" in w for w in result.warnings)


@pytest.mark.parametrize("day, expected", [
    ("2025-09-28", Decision.NLR),               # before the affiliates rule
    ("2025-10-15", Decision.LICENSE_REQUIRED),  # in force
    ("2026-01-15", Decision.NLR),               # stayed by 90 FR 50857
    ("2026-11-09", Decision.NLR),               # last day of the stay
    ("2026-11-15", Decision.LICENSE_REQUIRED),  # reinstated
])
def test_affiliates_rule_and_its_suspension(engine, day, expected):
    subsidiary = party("Example Regional Holdings Pte Ltd", "SG",
                       owners=[{"name": HUAWEI, "country": "CN", "share": 0.6}])
    result = engine.check(order("SG", eccn="EAR99", date=day, parties=[subsidiary]))
    assert result.decision == expected
    affiliate = [f for f in result.findings if f.rule == "ear.744.11.affiliates"]
    if day >= "2025-09-29":
        assert affiliate and affiliate[0].matches[0].owner == HUAWEI
        assert affiliate[0].enforced == (expected == Decision.LICENSE_REQUIRED)


def test_owners_under_fifty_percent_together_do_not_make_an_affiliate(engine):
    subsidiary = party("Example Regional Holdings Pte Ltd", "SG",
                       owners=[{"name": HUAWEI, "country": "CN", "share": 0.3},
                               {"name": "Siemens AG", "country": "DE", "share": 0.7}])
    result = engine.check(order("SG", eccn="EAR99", date="2025-10-15", parties=[subsidiary]))
    assert result.decision == Decision.NLR


def test_allow_list_clears_a_reviewed_false_positive(tmp_path, list_store):
    store = tmp_path / "store"
    store.mkdir()
    for path in list_store.iterdir():
        if path.is_file():  # not the screening index beside the lists
            (store / path.name).write_bytes(path.read_bytes())
    probe = Engine.load(lists=store).screen("Huawey Technologys", country="CN")
    entry = probe.matches[0]
    (store / "allow-list.yaml").write_text(yaml.safe_dump([{
        "list": entry.list, "entry": entry.entry_id, "name": "Huawey Technologys", "by": "J. Analyst",
        "on": "2026-11-20", "why": "A Shenzhen cable retailer, registry no. checked against the entry"}]))
    engine = Engine.load(lists=store)
    result = engine.check(order("CN", eccn="EAR99", parties=[party("Huawey Technologys")]))
    assert not any(m.entry_id == entry.entry_id for f in result.findings for m in f.matches)
    assert any("allowed by J. Analyst" in w and entry.entry in w for w in result.warnings)


def test_screen_matches_the_contract_shape(engine):
    result = json.loads(engine.screen("Huawei Tech Co Ltd", country="CN").model_dump_json())
    assert result["query"] == "Huawei Tech Co Ltd" and result["country"] == "CN"
    assert result["decision"] == "LICENSE_REQUIRED"
    top = result["matches"][0]
    assert {"list", "entry", "matched_name", "score", "country", "effect", "citation"} <= set(top)
    assert top["entry"] == HUAWEI and 0 <= top["score"] <= 1 and top["citation"].startswith("15 CFR 744.11")


def test_screen_cli(cli_lists):
    runner = CliRunner()
    result = runner.invoke(main, ["screen", "Huawei Tech Co Ltd", "--country", "CN", "--format", "json"])
    assert result.exit_code == 3 and json.loads(result.output)["matches"][0]["entry"] == HUAWEI
    assert runner.invoke(main, ["screen", "Siemens AG", "--country", "DE"]).exit_code == 0
    bad = runner.invoke(main, ["screen", "Siemens AG", "--country", "XX"])
    assert bad.exit_code == 2 and "country" in bad.output


def test_lists_import_cli_refuses_a_shrunken_list(tmp_path):
    runner = CliRunner()
    store = tmp_path / "store"
    assert runner.invoke(main, ["lists", "import", str(CSL_FILE), "-o", str(store)]).exit_code == 0
    import gzip
    rows = gzip.open(CSL_FILE, "rt", encoding="utf-8").read().splitlines(keepends=True)
    shrunk = tmp_path / "shrunk.csv"
    shrunk.write_text("".join(r for r in rows if "Denied Persons List" not in r))
    result = runner.invoke(main, ["lists", "import", str(shrunk), "-o", str(store)])
    assert result.exit_code == 2 and "Denied Persons List" in result.output
    assert runner.invoke(main, ["lists", "import", str(shrunk), "-o", str(store), "--force"]).exit_code == 0


def test_findings_quote_what_the_entry_footnotes_trigger(engine):
    result = engine.check(order("CN", eccn="EAR99", parties=[party(HUAWEI)]))
    top = next(f for f in result.findings if f.rule == "ear.744.11.entity-list").matches[0]
    assert top.footnotes == [1, 2]
    assert "§ 734.9(e)(1)" in top.footnote_texts[1] and "§ 744.11(a)(2)(i)" in top.footnote_texts[1]
    assert "Cybersecurity research" in top.footnote_texts[2]


def test_footnote_designations_are_party_facts(engine, list_store):
    smic = next(e for e in ListStore(list_store).screening_lists()["Entity List"] if 5 in e.footnotes)
    screen = engine._screening.screener.screen_party(Party(role="end_user", name=smic.name, country="CN"))
    assert "fn5" in screen.facts()["party.footnotes"]


def test_an_order_without_parties_is_held(engine):
    result = engine.check(order("DE", eccn="EAR99", parties=[]))
    assert result.decision == Decision.HOLD and fired(result) == {"screening.no-parties"}


@pytest.mark.parametrize("content, message", [
    ("just some text\n", "not a recognised list file"),
    ('<?xml version="1.0"?>\n<DIV5 N="744">PART 744 <broken></DIV5>\n', "not well-formed XML"),
])
def test_lists_import_of_a_bad_file_is_exit_2_and_writes_nothing(tmp_path, content, message):
    bad = tmp_path / "bad.xml"
    bad.write_text(content)
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["lists", "import", str(bad), "-o", str(store)])
    assert result.exit_code == 2 and message in result.output and "bad.xml" in result.output
    assert not store.exists() or not any(store.iterdir())


def test_owners_that_are_only_possibly_listed_hold_the_order(engine):
    subsidiary = party("Example Regional Holdings Pte Ltd", "SG",
                       owners=[{"name": HUAWEI, "country": "CN", "share": 0.3},
                               {"name": "Huawey Technologys", "country": "CN", "share": 0.3}])
    result = engine.check(order("SG", eccn="EAR99", date="2025-10-15", parties=[subsidiary]))
    assert result.decision == Decision.HOLD
    finding = next(f for f in result.findings if f.rule == "ear.744.11.affiliates.possible")
    assert {m.owner for m in finding.matches} == {HUAWEI, "Huawey Technologys"}
    assert "ear.744.11.affiliates" not in fired(result)


def test_a_branch_of_a_listed_company_is_the_listed_company(engine):
    result = engine.screen("Huawei Technologies Shenzhen Branch", country="CN")
    assert result.decision == Decision.LICENSE_REQUIRED and result.matches[0].entry == HUAWEI
    assert engine.screen("Siemens AG Shanghai Branch", country="CN").decision == Decision.NLR


def test_an_edition_stated_on_import_is_recorded_and_reported(tmp_path):
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["lists", "import", str(ECFR_FILE), "-o", str(store), "--edition", "2026-07-23"])
    assert result.exit_code == 0 and "edition 2026-07-23" in result.output
    snapshots = {s.list: s for s in Engine.load(lists=store).lists}
    assert snapshots["Entity List"].edition == "2026-07-23" and snapshots["Entity List"].source == "ecfr"


# An Entity List match never disappears; footnote FDP rules; party rules without line proxies.

def listed_party(engine, list_store, list_name, role="end_user", listed_before=None, **where):
    """A listed entry whose name screens to that list alone (a strong match, nothing possible);
    ``listed_before``: listed before that day, so that a check of that day screens it as listed."""
    for entry in ListStore(list_store).screening_lists()[list_name]:
        if listed_before and not (entry.listed_on and entry.listed_on < listed_before):
            continue
        if all(getattr(entry, k) == v for k, v in where.items()):
            found = party(entry.name, entry.country or "CN", role)
            facts = engine._screening.screener.screen_party(Party(**found)).facts()
            if len(facts["party.lists"]) == 1 and not facts["party.possible_lists"]:
                return found
    raise LookupError(f"no entry of {list_name} with {where} screens to that list alone")


def foreign_chip(parties, date="2026-11-28", **item):
    """A Taiwan-made 3A090.a under the de minimis level, declared not a direct product of U.S. technology."""
    line = {"sku": "ACC-TW", "quantity": 1, "unit_value": 20000, "us_content_value": 0, "origin": "TW",
            "eccn": "3A090.a", "direct_product_of": []}
    line.update(item)
    return {"id": "FDP-1", "date": date, "export_from": "TW", "destination": "CN", "parties": parties,
            "items": [line]}


def fired_derivations(result):
    return {d.rule for line in result.lines for d in line.derived}


def finding(result, rule):
    return next(f for f in result.findings if f.rule == rule)


PLANT_UNKNOWN = "ear.734.9.e.footnote-party.plant-unknown"


def test_footnote_4_entity_holds_a_foreign_chip_whose_plant_is_not_given(engine, list_store):
    fn4 = listed_party(engine, list_store, "Entity List", footnotes=(4,))
    result = engine.check(foreign_chip([fn4]))
    assert result.decision == Decision.HOLD and result.lines[0].subject_to_ear is None
    assert "734.9(e)(2)" in finding(result, PLANT_UNKNOWN).citation
    assert "plant_direct_product_of" in finding(result, PLANT_UNKNOWN).message


@pytest.mark.parametrize("direct_product_of, decision", [
    (["3E001"], Decision.LICENSE_REQUIRED),  # in the (e)(2) product scope
    (["5E002"], Decision.LICENSE_REQUIRED),  # (e)(2) adds 5D002/5E002
    (["9E001"], Decision.NOT_SUBJECT),       # outside it, and the plant is given: no U.S. technology
])
def test_footnote_4_fdp_on_the_technology_the_item_is_a_direct_product_of(engine, list_store, direct_product_of,
                                                                        decision):
    fn4 = listed_party(engine, list_store, "Entity List", footnotes=(4,))
    result = engine.check(foreign_chip([fn4], direct_product_of=direct_product_of, plant_direct_product_of=[]))
    assert result.decision == decision
    assert ("ear.734.9.e2.footnote-4" in fired_derivations(result)) == (decision == Decision.LICENSE_REQUIRED)


@pytest.mark.parametrize("day, subject", [("2022-10-20", False), ("2022-10-21", True)])
def test_footnote_4_fdp_rule_starts_on_2022_10_21(engine, list_store, day, subject):
    fn4 = listed_party(engine, list_store, "Entity List", listed_before=dt.date(2022, 10, 20), footnotes=(4,))
    result = engine.check(foreign_chip([fn4], date=day, direct_product_of=["5E002"], plant_direct_product_of=[]))
    assert result.lines[0].subject_to_ear is subject
    assert ("ear.744.11.entity-list.not-subject" in fired(result)) == (not subject)


def test_footnote_1_scope_lacks_5e002(engine):
    huawei = party(HUAWEI)
    result = engine.check(foreign_chip([huawei], eccn="EAR99", direct_product_of=["5E002"], plant_direct_product_of=[]))
    assert result.lines[0].subject_to_ear is False and "ear.734.9.e1.footnote-1" not in fired_derivations(result)
    result = engine.check(foreign_chip([huawei], eccn="EAR99", direct_product_of=["5E001"], plant_direct_product_of=[]))
    assert result.decision == Decision.LICENSE_REQUIRED and "ear.734.9.e1.footnote-1" in fired_derivations(result)
    assert result.lines[0].basis == "fdp:734.9(e)(1)"


@pytest.mark.parametrize("eccn, subject", [("3B001.e", True), ("3B001.c.1.a", False), ("EAR99", False)])
def test_footnote_5_fdp_rule_reaches_only_the_listed_equipment(engine, list_store, eccn, subject):
    fn5 = listed_party(engine, list_store, "Entity List", footnotes=(5,))
    result = engine.check(foreign_chip([fn5], eccn=eccn, direct_product_of=["3E001"], plant_direct_product_of=[],
                                       contains_us_ic=[]))
    assert result.lines[0].subject_to_ear is subject
    assert ("ear.734.9.e3.footnote-5" in fired_derivations(result)) == subject


def test_footnote_3_entity_makes_any_foreign_item_of_us_technology_subject(engine, list_store):
    fn3 = listed_party(engine, list_store, "Entity List", footnotes=(3,))
    result = engine.check(foreign_chip([fn3], eccn="EAR99", direct_product_of=["9E001"], plant_direct_product_of=[]))
    assert result.lines[0].basis == "fdp:734.9(g)" and result.decision == Decision.LICENSE_REQUIRED


def test_entity_without_footnotes_on_a_non_subject_item_keeps_its_finding(engine, list_store):
    listed = listed_party(engine, list_store, "Entity List", footnotes=(), country="CN")
    result = engine.check(foreign_chip([listed]))
    assert result.decision == Decision.NOT_SUBJECT
    assert fired(result) == {"ear.744.11.entity-list.not-subject"}
    assert finding(result, "ear.744.11.entity-list.not-subject").matches[0].entry == listed["name"]


def test_entity_list_party_on_a_line_of_unknown_jurisdiction_is_held(engine):
    result = engine.check(foreign_chip([party(HUAWEI)], origin=None, direct_product_of=None))
    assert result.decision == Decision.HOLD
    assert {"ear.744.11.entity-list.subject-unknown", "chipgate.jurisdiction-unknown"} <= fired(result)
    assert "ear.744.11.entity-list" not in fired(result)


@pytest.mark.parametrize("list_name, rule", [("Specially Designated Nationals", "ofac.sdn"),
                                             ("Denied Persons List", "ear.736.2.b4.denied-persons")])
def test_sdn_and_denied_parties_are_prohibited_on_a_line_without_origin(engine, list_store, list_name, rule):
    listed = listed_party(engine, list_store, list_name)
    result = engine.check(foreign_chip([listed], origin=None, direct_product_of=None))
    assert result.decision == Decision.PROHIBITED and rule in fired(result)


def test_a_denied_party_does_not_reach_an_item_not_subject_to_the_ear(engine, list_store):
    listed = listed_party(engine, list_store, "Denied Persons List")
    result = engine.check(foreign_chip([listed], eccn="EAR99"))
    assert result.decision == Decision.NOT_SUBJECT and "ear.736.2.b4.denied-persons" not in fired(result)


def owned_by(owner, share=0.6):
    return party("Example Regional Holdings Pte Ltd", "SG",
                 owners=[{"name": owner["name"], "country": owner["country"], "share": share}])


@pytest.mark.parametrize("programs, expected", [
    (("RUSSIA-EO14024",), Decision.LICENSE_REQUIRED),  # § 744.8(a)(1)(i)(C)
    (("SDGT",), Decision.LICENSE_REQUIRED),            # § 744.8(a)(1)(ii)(B)
    (("SYRIA",), Decision.NLR),                        # not a § 744.8(a)(1) programme
    (("CUBA",), Decision.NLR),
])
def test_only_744_8_programmes_propagate_through_sdn_owners(engine, list_store, programs, expected):
    owner = listed_party(engine, list_store, "Specially Designated Nationals", programs=programs)
    result = engine.check(order("SG", eccn="EAR99", date="2026-11-15", parties=[owned_by(owner)]))
    assert result.decision == expected
    assert ("ear.744.8.affiliates" in fired(result)) == (expected == Decision.LICENSE_REQUIRED)
    if expected == Decision.LICENSE_REQUIRED:
        assert finding(result, "ear.744.8.affiliates").matches[0].owner == owner["name"]


def test_sdn_owners_outside_744_8_do_not_add_up_to_fifty_percent(engine, list_store):
    syria = listed_party(engine, list_store, "Specially Designated Nationals", programs=("SYRIA",))
    subsidiary = party("Example Regional Holdings Pte Ltd", "SG",
                       owners=[{"name": HUAWEI, "country": "CN", "share": 0.3},
                               {"name": syria["name"], "country": syria["country"], "share": 0.3}])
    result = engine.check(order("SG", eccn="EAR99", date="2026-11-15", parties=[subsidiary]))
    assert result.decision == Decision.NLR and not fired(result)


@pytest.mark.parametrize("day, expected", [("2026-11-09", Decision.NOT_SUBJECT), ("2026-11-10", Decision.HOLD)])
def test_affiliate_of_a_footnoted_entity_holds_a_foreign_item_once_the_stay_ends(engine, list_store, day, expected):
    fn4 = listed_party(engine, list_store, "Entity List", footnotes=(4,))
    result = engine.check(foreign_chip([owned_by(fn4)], date=day))
    assert result.decision == expected
    check = finding(result, "ear.734.9.e.affiliates.check")
    assert check.enforced == (expected == Decision.HOLD) and check.matches[0].footnotes == [4]
