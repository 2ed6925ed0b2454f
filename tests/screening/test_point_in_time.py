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


@pytest.mark.parametrize("damage, problem", [
    (lambda line: b"{not json", "line 2: not a history record: Invalid JSON"),
    (lambda line: b"[" * 100_000 + b"]" * 100_000, "line 2: not a history record: Invalid JSON"),
    (lambda line: line.replace(b'"name": "', b'"name": "\\ud800', 1), "line 2: not a history record: Invalid JSON"),
    (lambda line: line.replace(b'"on": "2026-08-01"', b'"on": "2026-13-45"'), "line 2: on: is not a date"),
    (lambda line: line.replace(b'"change": "removed"', b'"change": "gone"'), "line 2: change: Input should be"),
    (lambda line: line.replace(b'"entry": {', b'"entry": {"extra": 1, '), "line 2: entry.extra: Extra inputs"),
], ids=["not JSON", "nested without end", "a lone surrogate", "a bad date", "a change of no kind", "an entry that is not one"])
def test_a_history_edited_with_its_digest_is_damage_named_by_line_never_a_crash(two_editions, tmp_path, damage,
                                                                                 problem):
    """The history is checked against the manifest's digest; one edited along with it (a record that is no
    record) makes the store unusable, said with its line, by ``lists status`` and by every check."""
    import hashlib
    import json

    from click.testing import CliRunner

    from cli import main
    from controls.errors import ListDataError
    from controls.lists.store import HISTORY, MANIFEST

    path = tmp_path / "lists"
    shutil.copytree(two_editions[0], path)
    [line] = (path / HISTORY).read_bytes().splitlines()
    history = line + b"\n" + damage(line) + b"\n"
    (path / HISTORY).write_bytes(history)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["history"]["sha256"] = hashlib.sha256(history).hexdigest()
    (path / MANIFEST).write_text(json.dumps(manifest))

    with pytest.raises(ListDataError, match=problem):
        ListStore(path).history()
    status = CliRunner().invoke(main, ["lists", "status"], env={"CHIPGATE_LISTS": str(path)})
    assert status.exit_code == 2 and problem in status.output
    result = Engine.load(lists=path).check(sophgo_order("2026-08-02"))
    assert result.decision == Decision.HOLD
    assert any("the list store cannot be used" in w and problem in w for w in result.warnings)
