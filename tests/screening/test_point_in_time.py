"""Point-in-time screening: a check dated D uses the list entries in force on D, and says which."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import ECFR_FILE, order
from lists.test_store import trimmed_ecfr

from controls import Decision, Engine
from controls.lists import ListStore, parse_part744

SOPHGO = "Sophgo Technologies Ltd."  # Entity List, 90 FR 4622, 2025-01-16


def sophgo_order(date: str) -> dict:
    return order("CN", date=date, eccn="EAR99", parties=[{"role": "end_user", "name": SOPHGO, "country": "CN"}])


def matched(result, entry_id: str) -> list:
    return [m for f in result.findings for m in f.matches if m.entry_id == entry_id]


def test_an_order_dated_before_an_entrys_listing_is_not_blocked_by_it_and_says_so(engine):
    before = engine.check(sophgo_order("2023-01-01"))
    assert not matched(before, "EL-CN-sophgo-technologies-ltd")
    assert before.decision != Decision.LICENSE_REQUIRED
    note = next(w for w in before.warnings if "EL-CN-sophgo-technologies-ltd" in w)
    assert "not applied on 2023-01-01: it was listed on 2025-01-16" in note

    after = engine.check(sophgo_order("2025-01-16"))
    assert after.decision == Decision.LICENSE_REQUIRED
    [m] = matched(after, "EL-CN-sophgo-technologies-ltd")
    assert m.in_force_from == dt.date(2025, 1, 16) and m.in_force_until is None
    assert m.edition.startswith("unknown (imported ")  # the file states no edition


def test_screening_a_name_uses_the_lists_of_its_date(engine):
    assert engine.screen(SOPHGO, "CN", as_of=dt.date(2024, 6, 1)).decision == Decision.NLR
    assert engine.screen(SOPHGO, "CN", as_of=dt.date(2025, 6, 1)).decision == Decision.LICENSE_REQUIRED


@pytest.fixture(scope="module")
def two_editions(list_store, tmp_path_factory):
    """The real store, then a second edition of the eCFR (dated 2026-08-01) without one entry."""
    path = tmp_path_factory.mktemp("editions") / "lists"
    shutil.copytree(list_store, path)
    store = ListStore(path)
    second = path.parent / "part744_2026-08-01.xml.gz"
    [removed] = trimmed_ecfr(ECFR_FILE, parse_part744(ECFR_FILE)["Entity List"], second, 1)
    store.import_file(second, edition=dt.date(2026, 8, 1))
    return path, removed


def test_the_store_keeps_each_editions_removals_dated(two_editions):
    path, removed = two_editions
    [record] = ListStore(path).history()
    assert (record["entry_id"], record["change"], record["on"]) == (removed.entry_id, "removed", "2026-08-01")
    assert record["entry"]["name"] == removed.name


def test_a_removed_entry_stops_matching_from_its_removal_date(two_editions):
    path, removed = two_editions
    engine = Engine.load(lists=path)
    party = [{"role": "end_user", "name": removed.name, "country": removed.country}]

    while_listed = engine.check(order(removed.country, date="2026-07-31", eccn="EAR99", parties=party))
    [m] = matched(while_listed, removed.entry_id)
    assert m.in_force_until == dt.date(2026, 8, 1) and m.edition.startswith("unknown (imported ")

    once_removed = engine.check(order(removed.country, date="2026-08-01", eccn="EAR99", parties=party))
    assert not matched(once_removed, removed.entry_id)
    note = next(w for w in once_removed.warnings if removed.entry_id in w)
    assert "it was removed or changed on 2026-08-01" in note
    # the second edition is dated: matches of entries still listed name it
    other = engine.check(order("CN", date="2026-08-02", eccn="EAR99",
                               parties=[{"role": "end_user", "name": SOPHGO, "country": "CN"}]))
    assert matched(other, "EL-CN-sophgo-technologies-ltd")[0].edition == "2026-08-01"


def test_a_stale_or_undated_list_edition_gives_a_warning(engine, two_editions):
    result = engine.check(sophgo_order("2026-11-28"))
    assert any("Specially Designated Nationals (csl): the edition date is unknown" in w for w in result.warnings)
    assert any("Entity List (ecfr): the edition date is unknown" in w for w in result.warnings)
    dated = Engine.load(lists=two_editions[0])
    fresh = dated.check(sophgo_order("2026-09-01"))
    assert not any(w.startswith("Entity List (ecfr)") for w in fresh.warnings)
    stale = dated.check(sophgo_order("2027-01-01"))
    assert "Entity List (ecfr): edition 2026-08-01 is 153 days older than 2027-01-01, more than the 90 allowed" in (
        " ".join(stale.warnings))
