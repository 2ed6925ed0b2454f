"""One table each for countries (codes and printed names) and party roles: the package holds no other
copy to disagree with it (as a second country table once rejected ``screen --country XK``)."""
import json
import re

from click.testing import CliRunner
from conftest import REPO

from cli import main
from controls.countries import NAMES, code_of, name_of
from controls.lists.countries import iso2_or_none
from controls.models import ROLES
from controls.screening.matcher import _country_of
from controls.words import country, role

PACKAGE = REPO / "controls"


def files_with(pattern: str) -> list[str]:
    """The package's source files in which ``pattern`` occurs."""
    return sorted(str(path.relative_to(REPO)) for path in PACKAGE.rglob("*.py")
                  if re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE))


def test_countries_are_one_table():
    assert files_with(r"^\s*(?:import|from) pycountry") == ["controls/countries.py"]
    assert files_with(r"[\"']XK[\"']") == ["controls/countries.py"]
    # a printed name mapped to a code ("BURMA": "MM"), in any case
    assert files_with(r"(?i)[\"'](?:burma|north korea|macao|crimea)[\"']\s*:\s*[\"'][A-Z]{2}[\"']") == [
        "controls/countries.py"]


def test_the_generated_iso_table_is_pycountrys():
    """controls/iso3166.py is generated from pycountry (tools/iso_countries.py): a pycountry that knows
    another code fails this until the tool is rerun."""
    import pycountry

    from controls.iso3166 import NAMES as ISO_NAMES

    assert ISO_NAMES.keys() == {c.alpha_2 for c in pycountry.countries}
    assert name_of("CN") == "China" and name_of("TW") == "Taiwan" and name_of("XK") == "Kosovo"
    assert name_of("ZZ") is None and name_of(None) is None


def test_party_roles_are_one_table():
    assert files_with(r"[\"'](?:ultimate|intermediate)_consignee[\"']") == ["controls/models.py"]
    assert all(role(r) == words for r, words in ROLES.items())


def test_every_reader_of_country_names_agrees():
    for printed, code in NAMES.items():
        assert iso2_or_none(printed) == code_of(printed) == code
        if "," not in printed:  # an address's country is its last part
            assert _country_of(f"Somewhere, {printed}") == code
    assert code_of("Korea") is None and _country_of("Seoul, Korea") == "KR"  # a hint, never a destination


def test_kosovo_is_a_country_everywhere(cli_lists):
    assert code_of("XK") == code_of("Kosovo") == "XK" and country("XK") == "Kosovo (XK)" and name_of("XK")
    run = CliRunner().invoke(main, ["screen", "Example Trading", "--country", "XK", "--format", "json"])
    assert run.exit_code in (0, 5), run.output  # judged, not refused as input (exit 2)
    assert json.loads(run.output)["country"] == "XK"


def test_an_unknown_country_is_still_refused(cli_lists):
    run = CliRunner().invoke(main, ["screen", "Example Trading", "--country", "XX"])
    assert run.exit_code == 2 and "unknown country code 'XX'" in run.output
