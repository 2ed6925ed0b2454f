"""§ 744.21 military end use and users: Supplement No. 2 to part 744, its destinations and dates, the MEU List."""
import pytest
from conftest import fired, order
from test_parties import listed_party, owned_by

from controls import Decision

A1 = "ear.744.21.military"
A1_CHECK = "ear.744.21.military.check"


def military(destination="CN", date="2026-11-28", **item):
    txn = order(destination, date=date, **item)
    txn["end_uses"] = ["military"]
    return txn


@pytest.mark.parametrize("eccn, expected, rule", [
    ("3A991.a.1", Decision.LICENSE_REQUIRED, A1),  # whole entry
    ("5A992.c", Decision.LICENSE_REQUIRED, A1),
    ("5A991.b.7", Decision.LICENSE_REQUIRED, A1),  # the paragraph the entry is limited to
    ("5A991.b.1", Decision.NLR, None),             # another paragraph of the same entry
    ("5A991", Decision.LICENSE_REQUIRED, A1),      # no paragraph: read as the most restrictive, b.7
    ("4A994.b", Decision.HOLD, A1_CHECK),          # "limited to" APP > 0.5 WT
    ("9A012.a.1", Decision.HOLD, A1_CHECK),        # listed only by the 2026-09-24 parse
    ("3A090.a", Decision.LICENSE_REQUIRED, None),  # not in Supp. No. 2 (licensed by § 742.6, not § 744.21)
    ("3A001.a.1", Decision.LICENSE_REQUIRED, None),  # not in Supp. No. 2; NS column 2 of the chart
    ("3B993.f.1", Decision.NLR, None),               # not in Supp. No. 2; RS only for footnote 5 parties
    ("EAR99", Decision.NLR, None),
])
def test_supplement_2_decides_the_military_end_use_licence(engine, eccn, expected, rule):
    result = engine.check(military(eccn=eccn))
    assert result.decision == expected
    assert {A1, A1_CHECK} & fired(result) == ({rule} if rule else set())


def test_an_unclassified_item_for_a_military_end_use_is_held(engine):
    result = engine.check(military())
    assert result.decision == Decision.HOLD and A1_CHECK in fired(result)


@pytest.mark.parametrize("destination, day, expected", [
    # before the chart pack's edition 3A991 is held (no CCL entry in the bundle), but not under § 744.21
    ("KH", "2021-12-08", Decision.HOLD), ("KH", "2021-12-09", Decision.LICENSE_REQUIRED),  # 86 FR 70015
    ("NI", "2024-03-14", Decision.HOLD), ("NI", "2024-03-15", Decision.LICENSE_REQUIRED),  # 89 FR 18780
    ("MM", "2026-11-28", Decision.LICENSE_REQUIRED), ("VE", "2026-11-28", Decision.LICENSE_REQUIRED),
    ("HK", "2026-11-28", Decision.LICENSE_REQUIRED),                                       # Hong Kong is China
    ("DE", "2026-11-28", Decision.NLR),
])
def test_destinations_of_744_21_a1(engine, destination, day, expected):
    result = engine.check(military(destination, date=day, eccn="3A991.a.1"))
    assert result.decision == expected and (A1 in fired(result)) == (expected == Decision.LICENSE_REQUIRED)


@pytest.mark.parametrize("day, rule", [("2021-10-04", "ear.744.21.military.before-2021-10-05"), ("2021-10-05", A1)])
def test_supplement_2_as_encoded_applies_from_2021_10_05(engine, day, rule):
    result = engine.check(military(date=day, eccn="3A991.a.1"))
    assert rule in fired(result)
    assert result.decision == (Decision.HOLD if "before" in rule else Decision.LICENSE_REQUIRED)


@pytest.mark.parametrize("destination, day, eccn, expected, rule", [
    ("RU", "2022-02-23", "EAR99", Decision.NLR, None),                # (a)(1): Supp. No. 2 items only
    ("RU", "2022-02-23", "3A991.a.1", Decision.LICENSE_REQUIRED, A1),
    ("RU", "2022-02-24", "EAR99", Decision.LICENSE_REQUIRED, "ear.744.21.military-russia-belarus"),
    ("BY", "2022-03-01", "EAR99", Decision.NLR, None),
    ("BY", "2022-03-02", "EAR99", Decision.LICENSE_REQUIRED, "ear.744.21.military-russia-belarus"),
])
def test_russia_and_belarus_any_item_from_2022(engine, destination, day, eccn, expected, rule):
    result = engine.check(military(destination, date=day, eccn=eccn))
    assert result.decision == expected
    mine = {r for r in fired(result) if r.startswith("ear.744.21")}
    assert mine == ({rule} if rule else set())


def test_macau_is_held_for_review(engine):
    result = engine.check(military("MO", eccn="3A991.a.1"))
    assert result.decision == Decision.HOLD and "ear.744.21.military.macau" in fired(result)
    assert A1 not in fired(result)


@pytest.mark.parametrize("eccn, expected, rule", [
    ("3A991.a.1", Decision.LICENSE_REQUIRED, "ear.744.21.meu-list"),
    ("4A994.b", Decision.HOLD, "ear.744.21.meu-list.check"),
    ("EAR99", Decision.NLR, None),
])
def test_meu_list_party_needs_a_licence_for_supplement_2_items_wherever_located(engine, list_store, eccn,
                                                                             expected, rule):
    meu = listed_party(engine, list_store, "Military End-User List", role="ultimate_consignee")
    meu["country"] = "DE"  # listed MEUs are reached wherever located
    result = engine.check(order("DE", eccn=eccn, parties=[meu]))
    assert result.decision == expected
    assert {r for r in fired(result) if r.startswith("ear.744.21")} == ({rule} if rule else set())
    if rule:
        assert next(f for f in result.findings if f.rule == rule).matches[0].list == "Military End-User List"


@pytest.mark.parametrize("day, eccn, expected", [
    ("2026-11-15", "3A991.a.1", Decision.LICENSE_REQUIRED),
    ("2026-11-15", "EAR99", Decision.NLR),          # an MEU owner passes on only the Supp. No. 2 scope
    ("2026-11-15", "3A991.a.1", Decision.LICENSE_REQUIRED),
    ("2026-11-15", "3B993.f.1", Decision.NLR),
    ("2026-11-15", "4A994.b", Decision.HOLD),
    ("2026-11-09", "3A991.a.1", Decision.NLR),      # the affiliates rule is stayed
])
def test_affiliate_of_an_meu_list_owner_inherits_only_supplement_2(engine, list_store, day, eccn, expected):
    meu = listed_party(engine, list_store, "Military End-User List")
    result = engine.check(order("SG", eccn=eccn, date=day, parties=[owned_by(meu)]))
    assert result.decision == expected
    assert "ear.744.11.affiliates" not in fired(result)
