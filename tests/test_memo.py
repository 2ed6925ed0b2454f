"""chipgate explain --format md|html: the licence-determination memo an auditor files."""
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, order

from cli import main

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
HOSTILE = "<script>alert('x')</script> & Co | *Ltd* [link](http://evil.example)"


@pytest.fixture(autouse=True)
def _imported_lists(cli_lists):
    """The command line screens against the lists the tests imported."""


def memo(path, fmt):
    return CliRunner().invoke(main, ["explain", str(path), "--format", fmt])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_memo_of_every_example(example, fmt):
    result = memo(example, fmt)
    text = result.output
    data = yaml.safe_load(example.read_text())
    assert result.exit_code in (0, 3, 4, 5)
    assert f"Licence determination: order {data['id']}" in text
    for section in ("Parties", "Items", "Determination", "Editions and digests", "Review"):
        assert section in text
    assert "Rule bundle" in text and re.search(r"sha256:[0-9a-f]{64}", text)
    assert "This order" in text and "This determination" in text
    assert "Reviewed by" in text and "Signature" in text
    assert "Entity List" in text  # the lists screened, each with its edition
    assert not re.search(r"\('|\['|\bNone\b|\bTrue\b|\(in \[", text)


def test_memo_carries_each_step_with_its_citation():
    text = memo(REPO / "examples" / "order.yaml", "md").output
    assert "1. Classification: 3A090.a, 15 CFR 774 Supp. 1, ECCN 3A090.a" in text
    assert "Jurisdiction: subject to the EAR, U.S.-origin item. 15 CFR 734.3(a)(2)" in text
    assert "15 CFR 742.6(a)(6)(iii)(A)" in text and "presumption of denial" in text
    fdp = memo(REPO / "examples" / "fdp-sme-tool-cn.yaml", "md").output
    assert "De minimis (15 CFR 734.4): controlled U.S.-origin content USD 100,000 of unit value USD " \
           "2,000,000 = 5 % exactly, not over the 25 % level (15 CFR 734.4(d))" in fdp
    assert "15 CFR 734.4(a)(8) (SME-set equipment" in fdp and "applied" in fdp


def test_html_is_self_contained_and_styled_for_print():
    text = memo(REPO / "examples" / "order.yaml", "html").output
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text and "@media print" in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert not re.search(r"(src|href)=|https?://|url\(", text)


def test_user_supplied_text_is_escaped(tmp_path):
    data = order("CN", eccn="3A090.a", description=HOSTILE,
                 parties=[{"role": "end_user", "name": HOSTILE, "country": "CN"}])
    data["id"] = "SO-<b>1</b>"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data))
    page = memo(path, "html").output
    assert "<script>" not in page and "<b>" not in page and "href" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in page
    assert "SO-&lt;b&gt;1&lt;/b&gt;" in page
    markdown = memo(path, "md").output
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "\\| \\*Ltd\\* \\[link\\]" in markdown  # no table cell broken, no emphasis, no link


def test_a_batch_gives_one_document_with_a_memo_per_order(tmp_path):
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump([order("DE", eccn="EAR99") | {"id": "A-1"},
                                    order("CN", eccn="3A090.a") | {"id": "B-2"}]))
    page = memo(path, "html")
    assert page.exit_code == 3
    assert page.output.count("<!DOCTYPE html>") == 1 and page.output.count('<section class="memo">') == 2
