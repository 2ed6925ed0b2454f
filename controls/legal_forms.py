"""Company legal forms ("Co., Ltd.", "GmbH", "OOO", "S.A. de C.V.", "有限公司"): one table.

Two readers use it. Screening drops legal forms from names before matching and scoring
(controls/screening/normalize.py); the list importer reads a comma-separated segment made of legal
forms as the end of a listed name, not the start of its address ("..., Co., Ltd., No. 5 Road ...",
controls/lists/_cells.py). Each derives what it needs from ``FORMS``; neither keeps its own list.

A form is written as printed; dots and spacing are free (``S.A.`` also reads "SA", "S. A."), and
a spelling in Han characters is matched as written. Where a form goes:

* ``anywhere``: dropped from a name wherever it stands ("Huawei Technologies Co., Ltd.").
* ``edge``: the form is also a syllable of names ("Sa'dallah", "Zao Wou-Ki", "Ao"), so
  screening drops it only as the first word of a name or in the run of legal forms that ends it.
* ``end``: as ``edge``, but never as the first word: the form only follows a name ("Adimir OÜ"),
  and the same letters start names ("Ou Yang").
* ``spelt_out``: its abbreviations (up to four letters) are also written letter by letter ("S A",
  "O O O"), recognised at the end of a name only (single letters anywhere else are initials).
* ``only``: a form one reader uses and the other does not, with the reason in ``why``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LegalForm", "FORMS", "LINKS"]


@dataclass(frozen=True)
class LegalForm:
    """One legal form and the ways lists and customers print it."""

    spellings: tuple[str, ...]
    where: Literal["anywhere", "edge", "end"] = "anywhere"
    region: str = ""  # language or jurisdiction, for the reader
    spelt_out: bool = False
    only: Literal["", "screening", "lists"] = ""
    why: str = ""  # why ``only`` one reader uses it


def _f(*spellings: str, **about) -> LegalForm:
    return LegalForm(spellings=spellings, **about)


# Words joining the parts of a form ("S.A. de C.V.", "y Cía."): dropped with them at a name's
# edge, never alone.
LINKS = ("de", "y")

FORMS: tuple[LegalForm, ...] = (
    # English, worldwide
    _f("Co.", "Company", "Cos.", region="English"),
    _f("Corp.", "Corporation", region="English"),
    _f("Inc.", "Incorporated", region="English"),
    _f("Ltd.", "Limited", region="English", spelt_out=True),
    _f("Co., Ltd.", "Co. Ltd.", "Co., Limited", "Company Limited", region="English (China, Hong Kong)"),
    _f("LLC", "L.L.C.", "Limited Liability Company", "Limited Liability", region="English (US, Russia, CIS)",
       spelt_out=True),
    _f("LLP", "Limited Liability Partnership", region="English (UK, India)"),
    _f("L.P.", region="English (US)", where="edge"),
    _f("PLC", "P.L.C.", region="English (UK)", spelt_out=True),
    _f("Pte.", region="Singapore"),
    _f("Pty.", region="Australia, South Africa"),
    _f("Pvt.", "Private", "Private Limited", "Pvt. Ltd.", region="India, Pakistan"),
    _f("Sdn.", "Bhd.", "Sdn. Bhd.", region="Malaysia"),
    _f("FZE", "Free Zone Establishment", region="UAE"),
    _f("FZCO", "FZC", "Free Zone Company", region="UAE"),
    _f("FZ-LLC", "FZ LLC", region="UAE"),
    # Russia and the CIS (transliterated)
    _f("OOO", region="Russia", spelt_out=True),
    _f("JSC", "Joint Stock Company", "Joint Stock", region="Russia, CIS", spelt_out=True),
    _f("AO", region="Russia (joint stock company)", where="edge"),
    _f("OJSC", "Open Joint Stock Company", "Open Joint Stock", region="Russia"),
    _f("OAO", region="Russia (open joint stock company)", spelt_out=True),
    _f("CJSC", "Closed Joint Stock Company", "Closed Joint Stock", region="Russia"),
    _f("ZAO", region="Russia (closed joint stock company)", where="edge", spelt_out=True),
    _f("ZAT", region="Ukraine (closed joint stock company)", where="edge"),
    _f("PJSC", "Public Joint Stock Company", "Public Joint Stock", region="Russia"),
    _f("PAO", region="Russia (public joint stock company)", where="edge", spelt_out=True),
    _f("FSUE", "FGUP", "Federal State Unitary Enterprise", region="Russia"),
    _f("State Unitary Enterprise", "Unitary Enterprise", region="Russia"),
    _f("SUE", region="Russia (state unitary enterprise)", only="lists",
       why="a given name ('Sue Smith', 'SMITH, Sue'); screening drops the form written out"),
    _f("Autonomous Noncommercial Organization", "Autonomous Non-Commercial Organization", region="Russia"),
    # Western and Northern Europe
    _f("GmbH", "mbH", region="Germany, Austria, Switzerland"),
    _f("AG", "A.G.", region="Germany, Switzerland", where="edge", spelt_out=True),
    _f("KG", region="Germany", where="edge"),
    _f("e.K.", region="Germany", only="lists",
       why="names use the letters too ('Milandr EK OOO', 'E.K.-Ultra Financial Group', 'EK-30064')"),
    _f("SE", region="European Union", where="edge"),
    _f("B.V.", "BV", region="Netherlands", spelt_out=True),
    _f("N.V.", "NV", region="Netherlands, Belgium", spelt_out=True),
    _f("S.A.", region="France, Spain, Latin America", where="edge", spelt_out=True),
    _f("S.A.S.", region="France", where="edge", spelt_out=True),
    _f("S.C.S.", region="France, Belgium, Luxembourg", where="edge", spelt_out=True),
    _f("S.A.R.L.", "SARL", region="France", spelt_out=True),
    _f("S.R.L.", "SRL", region="Italy, Romania, Latin America", spelt_out=True),
    _f("S.p.A.", region="Italy", where="edge", spelt_out=True),
    _f("S.L.", region="Spain", where="end", spelt_out=True),
    _f("Cía.", "Cia.", region="Spain, Latin America", where="edge"),
    _f("Ltda.", region="Brazil, Portugal, Latin America"),
    _f("S.A. de C.V.", "S.A.B. de C.V.", "S.A.B.", "de C.V.", "C.V.", region="Mexico", where="edge",
       spelt_out=True),
    _f("S. de R.L.", "S. de R.L. de C.V.", region="Mexico", where="edge", spelt_out=True),
    _f("AB", region="Sweden", where="edge"),
    _f("A.S.", "A.Ş.", region="Norway, Denmark, Turkey, Czechia", where="edge", spelt_out=True),
    _f("ASA", region="Norway", where="edge"),
    _f("Oy", region="Finland", where="edge"),
    _f("Oyj", region="Finland"),
    _f("OÜ", "OU", region="Estonia", where="end"),
    _f("s.r.o.", region="Czechia, Slovakia", where="edge", spelt_out=True),
    _f("Kft.", region="Hungary"),
    _f("Sp. z o.o.", region="Poland"),
    _f("Ltd. Şti.", "Şti.", "Sti.", region="Turkey"),
    # East Asia
    _f("K.K.", "KK", region="Japan", where="edge", spelt_out=True),
    # Written in Han characters or Hangul, a form is a word of its own script: the whole name may be it.
    _f("株式会社", "有限会社", "合同会社", "Kabushiki Kaisha", "Yugen Kaisha", "Godo Kaisha", region="Japan"),
    _f("股份有限公司", "有限责任公司", "有限公司", "责任公司", "股份公司", "有限合伙", "公司",
       "有限責任公司", "責任公司", region="China (simplified and traditional characters)"),
    # romanised, Korean forms are written as two words or one ("Jusikhoesa"), both on lists and in orders
    _f("주식회사", "유한회사", "Jusik Hoesa", "Chusik Hoesa", "Yuhan Hoesa", "Jusikhoesa", "Chusikhoesa",
       "Yuhanhoesa", region="Korea"),
    # ... abbreviated by their first syllable in brackets ("(주)삼성전자", "Samsung Electronics ㈜")
    _f("(주)", "(유)", region="Korea", where="edge"),
    # Words that close a listed name in a list cell but are no legal form: they name the party as
    # much as any other word of its name.
    _f("Trading", "Group", "San.", "Tic.", region="English, Turkish (Sanayi, Ticaret)", only="lists",
       why="name words that often follow a comma in a listed name ('..., San. ve Tic. Ltd. Şti.')"),
    _f("DMCC", region="UAE", only="lists",
       why="the free zone (Dubai Multi Commodities Centre) its companies name: dropped, it leaves generic "
           "names that unrelated companies match ('Alphabet International DMCC' / 'Alphabet Inc.')"),
    _f("NPO", "NPP", region="Russia", only="lists",
       why="a research and production association or enterprise: part of the name ('NPO Splav'), "
           "not its legal form"),
)
