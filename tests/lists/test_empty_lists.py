"""A list with no entries is no edition of it (review 2, item 1): an eCFR file whose tables were emptied
used to import as "0 -> 0 entries (unchanged)", and screening then preferred its empty Entity List to
the CSL's, clearing a listed party. The import is refused unless accepted list by list (--allow-empty),
and screening never prefers an empty copy, nor uses an empty list no import accepted."""
from __future__ import annotations

import gzip
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import order

from cli import main
from controls import Decision, Engine
from controls.errors import ListDataError
from controls.lists import ListStore
from controls.lists.ecfr import SUPPLEMENTS
from controls.lists.store import MANIFEST

from .conftest import DPL, FSE, csl_subset, snapshot

BIS_KEYS = ("ecfr:Entity List", "ecfr:Military End-User List", "ecfr:Unverified List")
LISTED = {"role": "end_user", "name": "aBensa FZ LLC", "country": "AE"}  # on the Entity List (both copies)


def emptied_ecfr(ecfr_file: Path, target: Path, *headings: str) -> Path:
    """The real part 744 with the table bodies of ``headings`` (default: all three lists) emptied."""
    root = ET.fromstring(gzip.decompress(ecfr_file.read_bytes()))
    for div in root.iter("DIV9"):
        if div.get("N") in (headings or SUPPLEMENTS):
            body = div.find(".//TABLE/TBODY")
            for row in list(body):
                body.remove(row)
    target.write_bytes(ET.tostring(root, encoding="utf-8"))
    return target


@pytest.fixture(scope="module")
def csl_only(tmp_path_factory, csl_file) -> Path:
    """A store holding the real CSL alone (its copy of the Entity List lists aBensa FZ LLC)."""
    path = tmp_path_factory.mktemp("csl_only") / "lists"
    ListStore(path).import_file(csl_file)
    return path


def decision(store: Path) -> Decision:
    return Engine.load(lists=store).check(order("DE", parties=[LISTED], eccn="5A992.c")).decision


def test_an_ecfr_file_with_empty_tables_is_refused_and_the_listed_party_stays_listed(csl_only, ecfr_file, tmp_path):
    store = tmp_path / "lists"
    shutil.copytree(csl_only, store)
    assert decision(store) == Decision.LICENSE_REQUIRED
    empty = emptied_ecfr(ecfr_file, tmp_path / "part744_empty.xml")
    before = snapshot(store)
    result = CliRunner().invoke(main, ["lists", "import", str(empty), "--edition", "2026-11-01", "-o", str(store)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert str(empty) in result.output and "refused, the store is unchanged" in result.output
    for key in BIS_KEYS:
        assert f"{key} has no entries in the file" in result.output and f"--allow-empty '{key}'" in result.output
    assert snapshot(store) == before
    assert decision(store) == Decision.LICENSE_REQUIRED

    # accepted as empty list by list: stored, but screening keeps the CSL copy, which has entries
    result = CliRunner().invoke(main, ["lists", "import", str(empty), "--edition", "2026-11-01", "-o", str(store),
                                       *(arg for key in BIS_KEYS for arg in ("--allow-empty", key))])
    assert result.exit_code == 0, result.output
    assert "overridden: empty ecfr:Entity List" in result.output and "accepted as empty" in result.output
    assert ListStore(store).manifest().lists["ecfr:Entity List"].accepted_empty
    assert ListStore(store).screening_keys()["Entity List"] == "csl:Entity List"
    assert decision(store) == Decision.LICENSE_REQUIRED


def test_one_empty_table_is_refused_alone_and_the_override_is_per_list(ecfr_file, tmp_path):
    store = ListStore(tmp_path / "lists")
    empty_uvl = emptied_ecfr(ecfr_file, tmp_path / "no_uvl.xml", "Supplement No. 6 to Part 744")
    with pytest.raises(ListDataError) as refused:
        store.import_file(empty_uvl, allow_empty=["Entity List"], allow_shrink=["Unverified List"])
    message = str(refused.value)
    assert "ecfr:Unverified List has no entries" in message and "Entity List" not in message
    assert not store.path.exists()  # a refused first import leaves no store behind
    report = store.import_file(empty_uvl, allow_empty=["Unverified List"])
    assert report.overridden == ("empty ecfr:Unverified List",)
    assert [report.diff(k).new_count for k in BIS_KEYS[:2]] == [3411, 70]

    # a later edition that empties a list the store holds trips both guards, each with its own override
    empty_el = emptied_ecfr(ecfr_file, tmp_path / "no_el.xml", "Supplement No. 4 to Part 744",
                            "Supplement No. 6 to Part 744")
    with pytest.raises(ListDataError, match="--allow-shrink 'ecfr:Entity List'.*\n.*--allow-empty 'ecfr:Entity List'"):
        store.import_file(empty_el, allow_empty=["Unverified List"])
    with pytest.raises(ListDataError, match="--allow-empty 'ecfr:Entity List'"):
        store.import_file(empty_el, allow_empty=["Unverified List"], allow_shrink=["Entity List"])
    report = store.import_file(empty_el, allow_empty=["Unverified List", "Entity List"], allow_shrink=["Entity List"])
    assert report.diff("ecfr:Entity List").new_count == 0


def test_a_store_holding_an_empty_list_no_import_accepted_is_not_screened_against_it(ecfr_file, tmp_path):
    """A store written before the guard: the empty list counts as missing (parties HOLD), not as clear."""
    store = ListStore(tmp_path / "lists")
    store.import_file(emptied_ecfr(ecfr_file, tmp_path / "empty.xml"), force=True)
    assert set(store.screening_keys()) == {"Entity List", "Military End-User List", "Unverified List"}
    manifest = json.loads((store.path / MANIFEST).read_text(encoding="utf-8"))
    for record in manifest["lists"].values():
        del record["accepted_empty"]
    (store.path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert store.screening_keys() == {}
    result = Engine.load(lists=store.path).check(order("DE", parties=[LISTED], eccn="5A992.c"))
    assert result.decision == Decision.HOLD
    assert any(f.rule == "screening.list-missing" for f in result.findings)
    status = CliRunner().invoke(main, ["lists", "status", "-o", str(store.path)])
    assert "NOT SCREENED: it has no entries" in status.output


def test_a_file_holding_no_list_at_all_is_refused(small_store, tmp_path, csl_file):
    header_only = tmp_path / "header.csv"
    header_only.write_text(csl_subset(csl_file, tmp_path / "s.csv", DPL, FSE).read_text().splitlines()[0] + "\n")
    before = snapshot(small_store.path)
    for store in (small_store, ListStore(tmp_path / "fresh")):
        with pytest.raises(ListDataError, match="header.csv: refused.*holds no list entries"):
            store.import_file(header_only, force=True)
    assert snapshot(small_store.path) == before and not (tmp_path / "fresh").exists()
