"""The screening algorithm's name, version and every parameter, in one place.

Like OpenSanctions' nomenklatura ``logic-v2``, the matcher is a named algorithm: its name, its
version and a digest of its parameters and word tables are recorded in every determination beside
the rule bundle's digest, so a determination says which matcher, tuned how, screened its parties.
Change a number here and the digest changes; change what the algorithm does and bump VERSION.

Scores run from 0 to 1. A name's score is an IDF-weighted F-score of word coverage both ways
(matcher.py); words come from normalize.py; candidates from index.py.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

NAME = "chipgate-names"
# 3: legal forms from one table (controls/legal_forms.py); FSUE/FGUP, Kft, ZAT and Mexico's "S. de R.L."
# are dropped too, Estonia's OÜ and Spain's S.L. only where they end a name.
# 4: the same results in every process: a query's words are read in their own order and the index's
# vocabulary in the order names first use a word, not in the hash order of a set, which follows the
# process's PYTHONHASHSEED and decided which of two equal-scoring spellings (and reasons) was kept.
# 5: a name is unscreenable when nothing but legal forms is left of it, those that are also syllables of
# names ("AG", "S.A.", "K.K.", "ЗАО") included, or when one letter or digit is (MIN_NAME_CHARS): "A" was
# screened, and cleared where the country of its one weak match differed. Japanese and Korean forms
# (株式会社, 주식회사) and traditional Chinese ones (有限責任公司) are in the table. A name with invisible
# characters (format characters such as U+200B, U+00AD, U+2060; the Hangul fillers) is also read with
# them as word breaks, and a word no listed name has as listed words run together ("HuaweiTechnologies";
# RUN_MIN_PIECE): a match of such a reading says so, and one of words run together needs every piece in
# the listed name and stays at or below COMPACT_SCORE. A derived form of a listed name that names no one
# ("(LIMITED)" read as an acronym) is not indexed.
# 6: Korea's romanised forms written as one word ("Jusikhoesa", "Yuhanhoesa") are legal forms: a listed name
# with one was a possible match of the name without it, and the form alone was screened as a name.  A name
# with a word in a script screening does not read (Hangul, Arabic, Hebrew, Greek, kana: ``unread_scripts``)
# is unscreenable: it matched nothing and was cleared.  Apostrophes written as modifier letters (ʼ ʻ ʿ) are
# apostrophes, and þ, ð, ŋ are read as th, d, ng.  Traditional Chinese characters are read as simplified
# (華為技術 was one pinyin word, "huaweijishu", where 华为技术 is "huawei technology").  Latin letters drawn
# as other characters that NFKD leaves whole (🅷, ʜ, 🇭, ɐ) are the letters their Unicode names name.  Escapes an
# integration left in a name (\u0077, %20, &#32;, &amp;) are read as their characters, and @ and $ between
# letters as a and s ("Hu@wei", "Huawei%20Technologies" screened as no match).  A name that names one party as
# acting for another ("Acme Logistics c/o Huawei Technologies", "on behalf of", "attn") is also read as each,
# and a name with a right-to-left override (U+202E) also in the order a screen shows it.
# 7: a word no listed name has, with letters doubled or more ("Huuaawwei Technologies", "Hhikkvission"), is
# also read as the listed word (or legal form) with the same letters, each written as many times or fewer, and
# three letters fewer at least (UNDOUBLED_MIN_DROPPED): such a name matched nothing.  Its matches are for a person
# to judge (REVIEW_CAP), as a misspelt word's are.  Korean forms abbreviated in brackets, (주) and ㈜ for 주식회사
# and (유) for 유한회사, are legal forms: a romanised name with one was unscreenable (its one Hangul syllable) and
# a listed name with one only a possible match.  Words run together: a piece the fewest pieces cut may be the
# listed name's words run together ("northwestern" for North Western); of two splits into as many pieces the one
# of commoner words is read ("enterprise state", not "enterprises tate"); words of up to RUN_MAX_LEN letters are
# tried (60 before).  Ordinary words were read as a stopword or legal form around a short listed name or acronym
# and matched strongly ("Albright" as al + BRIGHT, "Laderas" as la + de + RAS, "Abrira" as ab + REAL IRA): a
# legal form that is also a syllable is no piece, and a split that starts or ends with a stopword, or whose one
# listed word is short (RUN_SOLE_MIN) or stands with a form of two letters, is read for a person to judge
# (REVIEW_CAP).  Of 58,702 dictionary and place words that split, 694 were strong matches and 19 are; 2,263 were
# any match and 1,868 are.  What ERP master data and integrations leave in a name, which cleared listed names: an
# account or vendor number before or after it ("0000100234 Huawei ..."), markup tags and escapes of escapes
# ("<b>", "%2520", "&amp;nbsp;"), the name written twice, letters written apart ("H u a w e i"), abbreviations
# (Ind., Inds, Bkg, Semicond., Manuf., Mfrs, Eqpt); and a name naming the party by another name ("X dba Y", t/a,
# aka, formerly, "X / Y"): each read apart.  Digits and signs drawn as letters ("Hu4wei", "SM1C", "H!kvision",
# "R()soboronexport", "Huavvei", "lran" for Iran) are read as the letters, for a person to judge.  "(GROUP)" in a
# listed name is no acronym.  A part of a name in brackets, or after a legal form and "&", "and" or "for" ("Global
# Parts Ltd (Huawei Technologies Co., Ltd.)"), and a name of 28 to 40 characters without its last word when that
# word may have been cut by an ERP's name field ("... Technology Develo"), are read for a person to judge.  A
# reading that leaves one word of a name read apart (dba, written twice, an account number) is for a person to
# judge too: "Abdullah Abdullah" and "John Smith dba Sunrise" met one-word listed names.  A year is no account
# number ("Horizon 2020"); a legal form of three letters or more that is also a syllable may start or end a
# run-together word ("ZAOSparta"), for a person to judge.
VERSION = "7"

# ---------------------------------------------------------------- scores and thresholds (matcher.py)

# Thresholds, tuned on the bench (bench/screening_bench.py --sweep). STRONG: every spelling of
# a listed name (case, punctuation, legal form, abbreviation, word order) reaches it; a name
# with an informative word misspelt, missing or added never does (REVIEW_CAP). POSSIBLE: at
# 0.80 about 90% of such similar names are still found while 2% of unrelated real company
# names and 3% of recombined half-names match; at 0.75 it is 98% found but 4% and 9%.
STRONG = 0.92
POSSIBLE = 0.80

# Scores of exact forms: same normalized spelling, same words in another order, same letters
# with different spacing, a parenthesised acronym of a listed name.
EXACT_SCORE = 1.0
REORDERED_SCORE = 0.99
COMPACT_SCORE = 0.97
ACRONYM_SCORE = 0.95
PARTIAL_CAP = 0.98  # a score reached by token alignment stays below the exact forms
# A name whose informative words are not all spelled as listed (a typo, a transliteration, a
# word changed, added or missing) is for a person to judge: it never becomes strong, whatever
# the evidence. Informative = a word weight (index.weight) of at least INFORMATIVE_WEIGHT.
REVIEW_CAP = 0.91
INFORMATIVE_WEIGHT = 0.3
# F-beta weight of recall (coverage of the listed name) over precision (coverage of the query);
# 1.0 treats a word missing from the query like a word added to it (the bench found no better).
BETA = 1.0
# Supporting evidence.
COUNTRY_AGREES = 0.03
COUNTRY_DIFFERS = 0.05
ADDRESS_AGREES = 0.03
ADDRESS_MIN_TOKENS = 3
ADDRESS_MIN_SHARE = 0.8
# A query holding every word of a listed name of two words or more, and other words too ("Huawei
# Technologies Co., Ltd. Procurement Department"), is at least a possible match, whatever the
# added words weigh: a possible match still where the country differs.
CONTAINED_SCORE = POSSIBLE + COUNTRY_DIFFERS
# A one-word name matched only by its spelling needs this score: one
# letter in five ("Intel" / "Inter", "Tesla" / "Tesa") makes another word, one in six a typo.
ONE_WORD_FUZZY_MIN = 0.83
# Keys scored in full per query, best upper bound first.
CANDIDATE_CAP = 60

# A name indexed without its parenthesised words, or only as its parenthesised acronym, is
# not the listed spelling: its exact match stays below the listed spelling's. A short form (a
# parenthesised short name, a subsidiary's own name after its parent's) alone is a possible
# match; with the listing's country it is a strong one.
SHORT_FORM_SCORE = 0.9
# ---------------------------------------------------------------- weights and candidates (index.py)

# A token in more than this share of keys does not select candidates on its own.
BLOCKING_MAX_SHARE = 0.01
# Word weight is IDF minus this shift (floored at MIN_WEIGHT): words found in a few percent of
# names ("technology", "research", "trading") then weigh next to nothing, rare words a lot.
IDF_SHIFT = 2.5
MIN_WEIGHT = 0.05
# Place words qualify a name ("Zhejiang" Dahua Technology) more than they identify it.
PLACE_WEIGHT = 0.5
# Two words are spelling variants when their normalized edit similarity (optimal string
# alignment: a swap of two neighbours is one edit) reaches this: one edit in five letters,
# two in ten. Only words this long are compared.
FUZZY_MIN_SIMILARITY = 0.8
FUZZY_MIN_LEN = 5
# A query word that is itself listed is also looked up fuzzily when it weighs this much (a rare
# word, whose misspelling matters); common words ("technology") are not.
FUZZY_LOOKUP_WEIGHT = 2.0
# Postings (listed keys) a query walks at most to find candidates, rarest words first; the words
# past it count as matched in the candidates' bound. Keeps a query's cost flat as the lists grow.
POSTINGS_WALK_BUDGET = 1500
# A listed name of fewer words is not looked for inside longer queries: one word found in a longer
# name ("Shell" in "Shell plc", "Integral" in "Integral Systems Inc") is mostly another party, and
# so are two common words ("Abu Ali", "Science Research"); three common words are a name ("China
# Electronics Technology Group").
CONTAINED_MIN_WORDS = 2
# ... and words written in front of it may weigh no more than this (the weight of a word found in
# about one name in a hundred), unless they name a place or a unit.
CONTAINED_PREFIX_WEIGHT = 1.0
# A word no listed name has is read as listed words run together ("HuaweiTechnologies") when it splits
# into pieces of at least RUN_MIN_PIECE letters that are listed words (or legal forms and stopwords:
# "...coltd"); words longer than RUN_MAX_LEN letters are not tried (a piece is no longer than the longest listed
# word, so a word's split costs some 25 look-ups a letter).
RUN_MIN_PIECE = 3
RUN_MAX_LEN = 200
# A split is for a person to judge (REVIEW_CAP) when it starts or ends with a stopword ("Albright": al + BRIGHT), or
# when its one listed word, the other pieces legal forms or stopwords, has fewer than RUN_SOLE_MIN letters
# ("Laderas": la + de + RAS) or stands with a form shorter than RUN_MIN_PIECE ("Bellaco": BELLA + co): ordinary
# words split so.  A legal form that is also a syllable ("sa", "as", "ag", "se", "sab") is never a piece ("Sabana"
# was S.A.B. + ANA, "Patriotas" PATRIOT + AS).
RUN_SOLE_MIN = 5
# A word no listed name has, with letters written twice or more, is read as a listed word (or legal form) with the
# same letters each written as many times or fewer (``NameIndex.undoubled``) when that drops UNDOUBLED_MIN_DROPPED
# letters at least and leaves UNDOUBLED_MIN_LEN: names double two letters by themselves (Ammann, Colletta,
# Herrmann, Finnish Optiikka), which read as Aman, Coleta, Herman, Optika met other listed names; one or two
# letters doubled are one or two edits, which fuzzy look-up weighs; "MMM" is no "M".
UNDOUBLED_MIN_DROPPED = 3
UNDOUBLED_MIN_LEN = 4
# ... or one fewer when one of the letters doubled is one that names seldom double ("Huuaawei", "Hikkvission"):
# 483 of 1,441 listed names with two letters doubled in a word cleared at three
UNDOUBLED_SELDOM = "aiuhjkqvwxy"

# ---------------------------------------------------------------- normalisation (normalize.py)

# Words this module knows (one-word legal forms, abbreviated generic words and their canonical
# forms): a misspelt one ("Corporaton", "Tehnologies") is read as the word, so it neither counts as
# an unknown, rare word of the name nor escapes being dropped as a legal form. None of them
# identifies a party, so reading a typo of one as the word makes no match stronger than a person
# would. Only words long enough for one edit to be a typo are read so.
SPELLING_MIN_LEN = 6
SPELLING_MIN_SIMILARITY = 0.83
# A name whose words, legal forms and stopwords left out, have fewer letters or digits than this names no
# one ("A", "7"): it cannot be screened, whatever it happens to resemble.
MIN_NAME_CHARS = 2


def parameters() -> dict[str, object]:
    """Every parameter above, by name."""
    return {k: v for k, v in globals().items() if k.isupper() and k not in ("NAME", "VERSION")}


@lru_cache(maxsize=1)
def digest() -> str:
    """sha256 of the parameters and of the word tables normalisation uses (legal forms, glossaries,
    transliteration): whatever changes a score changes it."""
    import importlib

    # the module itself: ``from . import normalize`` gives the package's function of that name
    normalize = importlib.import_module(f"{__package__}.normalize")
    tables = {name: _canonical(value) for name, value in vars(normalize).items()
              if name.startswith("_") and isinstance(value, (dict, frozenset, tuple)) and not name.startswith("__")}
    payload = json.dumps({"name": NAME, "version": VERSION, "parameters": parameters(), "tables": tables},
                         sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _canonical(table: dict | frozenset | tuple) -> str:
    """A word table as text that does not depend on set or hash order."""
    if isinstance(table, dict):
        return repr(sorted(table.items(), key=repr))
    if isinstance(table, frozenset):
        return repr(sorted(table, key=repr))
    return repr(table)
