"""Score a party name against the lists: which listed parties it may be, and how sure we are.

The name score is an IDF-weighted word coverage, both ways: how much of the listed name the
query covers (recall) and how much of the query the listed name explains (precision),
combined as an F-score. Weighting by IDF is what stops one shared generic word ("Shenzhen",
"Technology") from looking like a match; whole-string ratios (token_set_ratio and kin) do
not, which is why they are not used. Words are aligned exactly first, then joined/split
("Sa dallah" / "Sadallah"), then by rapidfuzz edit similarity, so typos and transliterations
still count, a little less. Country and address only nudge a score: lists name parties in
many countries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Literal

from controls.countries import check_country, code_of
from controls.lists.model import ListEntry
from controls.screening import logic
from controls.screening.chunks import Chunked
from controls.screening.index import NameIndex, NameRef, token_similarity
from controls.screening.logic import (  # noqa: F401  (the parameters, named where they are used)
    ACRONYM_SCORE,
    ADDRESS_AGREES,
    ADDRESS_MIN_SHARE,
    ADDRESS_MIN_TOKENS,
    BETA,
    CANDIDATE_CAP,
    COMPACT_SCORE,
    CONTAINED_SCORE,
    COUNTRY_AGREES,
    COUNTRY_DIFFERS,
    EXACT_SCORE,
    INFORMATIVE_WEIGHT,
    ONE_WORD_FUZZY_MIN,
    PARTIAL_CAP,
    POSSIBLE,
    REORDERED_SCORE,
    REVIEW_CAP,
    SHORT_FORM_SCORE,
    STRONG,
)
from controls.screening.normalize import (
    all_words,
    as_displayed,
    key_tokens,
    legal_words,
    named_words,
    normalize,
    screenable,
    word_breaks,
)

__all__ = ["Match", "Screener", "STRONG", "POSSIBLE"]

_KIND_REASON = {
    "name": "name match",
    "alias": "alias match",
    "former name": "former name match",
    "affiliate": "listed affiliate match",
}
_FORM_CAP = {"full": 1.0, "bare": 0.96, "acronym": ACRONYM_SCORE, "short": SHORT_FORM_SCORE}
_EXACT_REASONS = frozenset({"exact spelling", "token order", "spacing"})
_FORM_REASON = {"bare": "without parenthesised words", "acronym": "acronym match",
                "short": "short form of the listed name"}


@dataclass(frozen=True)
class Match:
    """One listed party the screened name may be; ``matched_name`` is the list's own spelling."""

    entry: ListEntry
    matched_name: str
    score: float
    strength: Literal["strong", "possible"]
    reasons: tuple[str, ...]
    listed_words: tuple[str, ...] = ()  # the indexed words of ``matched_name`` (its form), for explain
    number: int = -1  # the entry's place in the screener's entries
    query_words: tuple[str, ...] = ()  # the words of another reading of the name that matched (Screener._readings)
    # the score before a cap for a person to judge (REVIEW_CAP): of two matches capped alike, the closer is first
    uncapped: float = 0.0

    @property
    def rank(self) -> tuple[float, float]:
        return self.score, self.uncapped


INVISIBLE_REASON = "invisible characters read as spaces"
RUN_TOGETHER_REASON = "words run together"
# ... read around a stopword or legal form as an ordinary word may be ("Albright": al + BRIGHT): for a person to judge
RUN_TOGETHER_UNSURE_REASON = "words run together, read around a stopword or legal form"
DISPLAYED_REASON = "read in the order it is shown (a right-to-left override reverses it)"
ON_BEHALF_REASON = "one of the parties the name names (c/o, on behalf of, dba, aka, formerly)"
UNDOUBLED_REASON = "letters written twice or more read as written in a listed name"
# words that name two parties in one name, an intermediary and the party it acts for ("Acme Logistics c/o
# Huawei Technologies"), or one party and another name of it ("Global Parts Ltd dba Huawei Technologies",
# "... formerly ...", "X / Y"): each is screened as a name of its own, as words in front of a listed name are not
_ON_BEHALF = re.compile(r"(?:(?<!\w)(?:c/o|c\.o\.|care of|attn\.?|attention|on behalf of|o/b/o|for the account of"
                        r"|f/a/o|acting for|agent for|agent of|dba|d/b/a|d\.b\.a\.|doing business as|t/a|trading as"
                        r"|aka|a/k/a|a\.k\.a\.|also known as|fka|f/k/a|formerly(?: known as)?|nka|n/k/a|now known as)"
                        r"(?!\w)|(?<=\s)/(?=\s))[:,\s]*", re.IGNORECASE)
REPEATED_REASON = "the name, or a word of it, written twice read once"
ACCOUNT_REASON = "a number beside the name (an account or vendor number) read apart"
DRAWN_REASON = "digits and signs in words read as the letters they are drawn as (4 as a, 0 as o, vv as w, ! as i)"
LETTERS_APART_REASON = "letters written apart read as one word"
PART_REASON = "a part of the name read as a name of its own (in brackets, or after a legal form and &, and or for)"
CUT_OFF_REASON = "the last word read as cut off by the length of an ERP's name field"
# a part that may name another party: in brackets ("Global Parts Ltd (Huawei Technologies Co., Ltd.)"), or after
# a company's legal form and "&", "and" or "for" ("Global Parts Ltd & Huawei ..."; "Procter & Gamble" is one name); one
# of two words or more is read alone, for a person to judge (brackets also hold places and branches)
_BRACKETED = re.compile(r"\(([^()]+)\)")
_JOINED = re.compile(r"\s(?:&|and|for)\s", re.IGNORECASE)
_LEGAL = legal_words()
# a name of CUT_OFF_MIN to CUT_OFF_MAX characters ending in a word no listed name has, or one of three letters at
# most, may have been cut off by a name field of some 30 to 40 (SAP's NAME1 holds 35): it is also read without it
CUT_OFF_MIN, CUT_OFF_MAX = 28, 40
# a word of an account or vendor number (five digits or more, or four after # or letters, not a year: "Horizon
# 2020"), or a sign or word that goes with one ("-", "|", "acct"), as a name's first or last words ("100234 Huawei",
# "[V-100234] Huawei", "Huawei ... - Acct 100234"); possessive, so that no run of signs is tried two ways
_ACCOUNT_WORD = re.compile(r"[\W_]*+(?:acct|account|no|id|vendor|customer)?+[\W_]*+"
                           r"(?P<number>\d{5,}+|(?:[A-Za-z]{1,3}[-#:]?+|#)\d{4,}+)?+[\W_]*+", re.IGNORECASE)
# ... glued to the name's first word: "100234-Huawei"
_ACCOUNT_GLUED = re.compile(r"[\W_]*+(?:\d{5,}+|(?:[A-Za-z]{1,3}[-#:]?+|#)\d{4,}+)[\W_]++(?=[^\W\d_])")
_DRAWN_DIGITS = str.maketrans("0134578", "oieastb")
# a word's first digits, and the rest of it from its first letter on: a rest of two letters or more with digits
# among them has its digits, and the first, read as letters ("Hu4w31", "HUAWE1", "SM1C", "3l3ctr0n1c5"); a word
# whose only digits come first keeps them ("3Com", "7Up", "4Kids"), as does a word of one letter ("Q1", "A380")
_WORD_WITH_DIGITS = re.compile(r"\b(\d*+)([^\W\d_]\w*+)")
# signs between letters drawn as one ("H!kvision", "R()soboronexport", "Hu|awei", "T€chnologies"); vv as w
_DRAWN_SIGNS = re.compile(r"(?<=[^\W\d_])(\(\)|[!|€£])(?=[^\W\d_])|(?<=[^\W\d_])vv|vv(?=[^\W\d_])", re.IGNORECASE)
_SIGN_LETTERS = {"()": "o", "!": "i", "|": "l", "€": "e", "£": "l"}
# a lower-case l drawn for a capital I: at the start of a word before a consonant ("lran", "lndustries"), or
# among capitals ("lRAN", "ELECTRONlCS")
_L_FOR_I = re.compile(r"(?<![^\W\d_])l(?=[bcdfgjkmnpqrstvxz]|[A-Z]{2})|(?<=[A-Z])l(?=[A-Z])")
_LETTERS_APART = re.compile(r"(?<![^\W\d_])[^\W\d_](?:[ ._-][^\W\d_]){2,}(?![^\W\d_])")  # "H u a w e i", "H.U.A"


# readings that take words away or cut a name into parts: one word left of it matches one-word names too easily to
# decide alone ("Abdullah Abdullah", "John Smith dba Sunrise")
_ONE_WORD_FOR_REVIEW = (ON_BEHALF_REASON, REPEATED_REASON, ACCOUNT_REASON)


def _reread(m: Match, read: tuple[str, ...], why: str) -> Match:
    """A match of another reading of the name, with the reason it was read so: of words run together, never
    above spacing ("Hi Silicon" / "HiSilicon"); of letters written twice or more, or of words run together around
    a stopword or legal form as ordinary words are, for a person to judge."""
    score = m.score
    if why == RUN_TOGETHER_REASON:
        score = min(score, COMPACT_SCORE)
    elif why in (UNDOUBLED_REASON, RUN_TOGETHER_UNSURE_REASON, DRAWN_REASON, PART_REASON, CUT_OFF_REASON) \
            or (len(read) == 1 and why in _ONE_WORD_FOR_REVIEW):
        score = min(score, REVIEW_CAP)
    strength: Literal["strong", "possible"] = "strong" if score >= STRONG else "possible"
    return replace(m, score=score, strength=strength, reasons=(*m.reasons, why), query_words=read)


def _word_at(text: str, at: int) -> str:
    """The word of ``text`` that holds position ``at``."""
    start = at
    while start and text[start - 1].isalnum():
        start -= 1
    end = at
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _without_account(name: str) -> str | None:
    """``name`` without the account or vendor number before or after it (``_ACCOUNT_WORD``), None if it has none."""
    words = name.split()
    if words and (glued := _ACCOUNT_GLUED.match(words[0])):
        words[0] = words[0][glued.end():]
        found = True
    else:
        found = False
    for end in (-1, 0):  # the last words, then the first
        while words and (word := _ACCOUNT_WORD.fullmatch(words[end])):
            found = found or word.group("number") is not None
            words.pop(end)
    return " ".join(words) if found and words else None


def _parts(name: str) -> list[str]:
    """The parts of ``name`` in brackets, the rest, and that cut where a legal form is followed by "&", "and" or "for",
    of two words or more each (one word alone, a place or a surname, would meet too many listed names)."""
    inner = _BRACKETED.findall(name)
    bare = _BRACKETED.sub(" ", name)
    pieces, start = [], 0
    for joint in _JOINED.finditer(bare):
        if (words := all_words(bare[start:joint.start()])) and words[-1] in _LEGAL:
            pieces.append(bare[start:joint.start()])
            start = joint.end()
    pieces.append(bare[start:])
    parts = [*inner, *(pieces if len(pieces) > 1 else ()), *((bare,) if inner else ())]
    return [p for p in dict.fromkeys(parts) if len(key_tokens(p)) >= 2]


def _words_once(key: tuple[str, ...]) -> tuple[str, ...]:
    """``key`` written once where it is written over and over ("huawei technology huawei technology"), and each
    word once where it is written twice or more in a row ("huawei huawei technology")."""
    n = len(key)
    period = next((p for p in range(1, n // 2 + 1) if n % p == 0 and key == key[:p] * (n // p)), n)
    key = key[:period]
    return tuple(w for i, w in enumerate(key) if not i or w != key[i - 1])


def _drawn_read(name: str) -> str:
    """``name`` with what is drawn for a letter read as the letter: digits after a letter (``_WORD_WITH_DIGITS``:
    "Hu4wei", "HUAWE1", "SM1C"), a sign between letters ("H!kvision"), vv ("Huavvei") and a lower-case l for a
    capital I ("lran")."""
    name = _DRAWN_SIGNS.sub(lambda m: _SIGN_LETTERS.get(m.group(1), "o") if m.group(1) else "w", name)
    if not name.islower():  # a name typed in lower case writes "ltd", "lg" so
        name = _L_FOR_I.sub(lambda m: m.group() if _word_at(name, m.start()).lower() in _LEGAL else "i", name)
    if not any(c.isdigit() for c in name):
        return name
    return _WORD_WITH_DIGITS.sub(_letters_drawn, name)


def _letters_drawn(word: re.Match) -> str:
    first, rest = word.groups()
    if sum(c.isalpha() for c in rest) < 2 or not any(c.isdigit() for c in rest):
        return word.group()
    return (first + rest).translate(_DRAWN_DIGITS)


@lru_cache(maxsize=4096)
def _country_of(place: str) -> str | None:
    """ISO alpha-2 of the last part of an address ("..., Beijing, China" / "..., Beijing, CN")."""
    return code_of(place.rsplit(",", 1)[-1].strip().rstrip("."), hints=True)


def _entry_countries(entry: ListEntry) -> frozenset[str]:
    found = {entry.country} if entry.country else set()
    found.update(c for c in map(_country_of, entry.addresses) if c)
    return frozenset(found)


def _f_beta(p: float, r: float) -> float:
    if p <= 0 or r <= 0:
        return 0.0
    b2 = BETA * BETA
    return (1 + b2) * p * r / (b2 * p + r)


def _align(
    q: tuple[str, ...], wq: list[float], c: tuple[str, ...], wc: list[float], trace: list | None = None
) -> tuple[float, float, bool, float]:
    """Matched weight on each side (query, candidate), whether any pair was inexact, and the
    largest weight of a word left unmatched on either side; ``trace`` gets each pair made
    (query word, listed word, similarity)."""
    c_left = list(c)
    wc_left = list(wc)
    mq = mc = 0.0
    q_left: list[tuple[str, float]] = []
    for tok, w in zip(q, wq):
        try:
            i = c_left.index(tok)
        except ValueError:
            q_left.append((tok, w))
            continue
        mq += w
        mc += wc_left.pop(i)
        c_left.pop(i)
        if trace is not None:
            trace.append((tok, tok, 1.0))
    # words written apart on one side, together on the other ("Sa dallah" / "Sadallah")
    mq, mc = _join_split_words(q_left, c_left, wc_left, mq, mc, trace)
    fuzzy = False
    used_q: set[int] = set()
    used_c: set[int] = set()
    if q_left and c_left:
        pairs = []
        for qi, (tok, _) in enumerate(q_left):
            for ci, other in enumerate(c_left):
                sim = token_similarity(tok, other)
                if sim:
                    pairs.append((sim, qi, ci))
        pairs.sort(reverse=True)
        for sim, qi, ci in pairs:
            if qi in used_q or ci in used_c:
                continue
            used_q.add(qi)
            used_c.add(ci)
            mq += sim * q_left[qi][1]
            mc += sim * wc_left[ci]
            fuzzy = True
            if trace is not None:
                trace.append((q_left[qi][0], c_left[ci], sim))
    unmatched = [w for i, (_, w) in enumerate(q_left) if i not in used_q]
    unmatched += [w for i, w in enumerate(wc_left) if i not in used_c]
    return mq, mc, fuzzy, max(unmatched, default=0.0)


def _join_split_words(
    q_left: list[tuple[str, float]], c_left: list[str], wc_left: list[float], mq: float, mc: float,
    trace: list | None = None,
) -> tuple[float, float]:
    """Match two neighbouring words of one side to one word of the other; updates the lists."""
    i = 0
    while i < len(q_left) - 1 and c_left:
        joined = q_left[i][0] + q_left[i + 1][0]
        if joined in c_left:
            ci = c_left.index(joined)
            if trace is not None:
                trace.append((f"{q_left[i][0]} {q_left[i + 1][0]}", joined, 1.0))
            mq += q_left[i][1] + q_left[i + 1][1]
            mc += wc_left.pop(ci)
            c_left.pop(ci)
            del q_left[i : i + 2]
        else:
            i += 1
    i = 0
    while i < len(c_left) - 1 and q_left:
        joined = c_left[i] + c_left[i + 1]
        qi = next((k for k, (t, _) in enumerate(q_left) if t == joined), None)
        if qi is not None:
            if trace is not None:
                trace.append((joined, f"{c_left[i]} {c_left[i + 1]}", 1.0))
            mq += q_left.pop(qi)[1]
            mc += wc_left[i] + wc_left[i + 1]
            del c_left[i : i + 2], wc_left[i : i + 2]
        else:
            i += 1
    return mq, mc


class Screener:
    """Prepared once over a set of list entries, then screens any number of names."""

    def __init__(self, entries: Iterable[ListEntry]):
        # a query reads the few entries it matches: the others stay pickled in a cached screener
        self.entries: Chunked[ListEntry] = Chunked(entries)
        self.index = NameIndex(self._refs())
        self._countries: dict[int, frozenset[str]] = {}

    def _refs(self) -> Iterable[NameRef]:
        for i, e in enumerate(self.entries):
            named = (("name", (e.name,)), ("alias", e.aliases), ("former name", e.former_names),
                     ("affiliate", e.affiliates))
            for kind, names in named:
                for text in names:
                    if text and text.strip():
                        yield NameRef(i, text.strip(), kind)

    def screen(
        self,
        name: str,
        country: str | None = None,
        address: str | None = None,
        limit: int = 5,
    ) -> list[Match]:
        """Listed parties ``name`` may be, best first; only possible or strong matches.

        ``country`` (ISO alpha-2) and ``address`` are supporting evidence: they move a score a
        little, and a different country never pushes an exact name match below STRONG.
        """
        cc = check_country(country) if country else None
        key = key_tokens(name)
        if not key or limit <= 0:
            return []
        best = self._best(name, key, cc, address)
        for text, why, runs in self._readings(name, key):
            read = key_tokens(text)
            if not read or read == key:
                continue
            for entry, m in self._best(text, read, cc, address).items():
                if runs and not self._pieces_listed(runs, frozenset(m.listed_words)):
                    continue
                m = _reread(m, read, why)
                old = best.get(entry)
                if old is None or m.rank > old.rank:
                    best[entry] = m
        ranked = sorted(best.values(), key=lambda m: (-m.score, -m.uncapped, m.entry.list, m.entry.entry_id))
        return ranked[:limit]

    def _cut_off(self, name: str, key: tuple[str, ...]) -> bool:
        """Whether ``name`` may end in a word an ERP's name field cut: CUT_OFF_MIN to CUT_OFF_MAX characters, three
        words or more, the last one no listed name has or of three letters at most ("Develo", "Tec"), and not an
        abbreviation in capitals closing a name that is not all capitals ("... Limited NY")."""
        if not CUT_OFF_MIN <= len(name) <= CUT_OFF_MAX or len(key) < 3 or not name[-1].isalnum():
            return False
        last = name.split()[-1]
        return (key[-1] not in self.index.postings or len(key[-1]) <= 3) and not (last.isupper() and not name.isupper())

    def _pieces_listed(self, runs: tuple[str, ...], listed: frozenset[str]) -> bool:
        """Whether the words run-together words were read as (``runs``: their pieces read as a name is, legal
        forms and stopwords left out) are all the listed name's words, or its words run together ("northwestern"
        for North Western): a word is not cut into pieces to meet a name that has some of them."""
        return all(word in listed or self.index.splits_into(word, listed) for word in runs)

    def _readings(self, name: str, key: tuple[str, ...]) -> Iterable[tuple[str, str, tuple[str, ...]]]:
        """Other ways a reader may read ``name``, each with the reason its matches give and, for words run
        together, the words they were read as (``_pieces_listed`` checks them against each listed name): as a
        screen shows it, each party it names (c/o, dba), without an account number, its parts (brackets, "Ltd &"),
        without a last word a field cut, written once, with drawn letters read, with invisible characters as word
        breaks, with letters written apart joined, words run together, letters doubled.  Most names have none of
        these: they are screened once."""
        name = name.strip()  # a field's padding: the readings below cut at the name's ends
        if (shown := as_displayed(name)) is not None:
            yield shown, DISPLAYED_REASON, ()
        if len(parts := [p for p in _ON_BEHALF.split(name) if p.strip(" ,;:-()/")]) > 1:
            for part in parts:  # each as a name of its own, read every way a name is
                yield part, ON_BEHALF_REASON, ()
                if part_key := key_tokens(part):
                    yield from self._readings(part, part_key)
        if (apart := _without_account(name)) is not None and screenable(apart):  # "7103 Group" is no "Group"
            yield apart, ACCOUNT_REASON, ()
            yield from self._readings(apart, key_tokens(apart))
        if "(" in name or "&" in name or "for" in (lower := name.lower()) or "and" in lower:
            for part in _parts(name):
                yield part, PART_REASON, ()
        if self._cut_off(name, key):
            yield " ".join(key[:-1]), CUT_OFF_REASON, ()
        if (once := _words_once(key)) != key:
            yield " ".join(once), REPEATED_REASON, ()
        if (drawn := _drawn_read(name)) != name:
            yield drawn, DRAWN_REASON, ()
        readings = [(name, key)]
        if (spaced := word_breaks(name)) is not None:
            readings.append((spaced, key_tokens(spaced)))
            yield spaced, INVISIBLE_REASON, ()
        if (joined := _LETTERS_APART.sub(lambda m: re.sub(r"[ ._-]", "", m.group()), name)) != name:
            readings.append((joined, key_tokens(joined)))
            yield joined, LETTERS_APART_REASON, ()
        for text, words in readings:
            split = [self.index.split_run(w) for w in words]
            if any(split):
                runs = tuple(dict.fromkeys(w for p in split if p for w in named_words(" ".join(p[0]))))
                why = RUN_TOGETHER_REASON if all(p[1] for p in split if p) else RUN_TOGETHER_UNSURE_REASON
                yield " ".join(" ".join(p[0]) if p else w for w, p in zip(words, split)), why, runs
            if any(map(self.index.undoubled, words)):  # read in every word: a legal form's too ("Liiabbillitty")
                every = all_words(text)
                yield " ".join(self.index.undoubled(w) or w for w in every), UNDOUBLED_REASON, ()

    def _best(self, name: str, key: tuple[str, ...], cc: str | None, address: str | None) -> dict[int, Match]:
        """The best match of each entry for one reading of a name (``key``: its key words)."""
        idx = self.index
        bonus = (COUNTRY_AGREES if cc else 0.0) + (ADDRESS_AGREES if address else 0.0)

        scored: dict[int, tuple[float, tuple[str, ...]]] = {}  # key id -> name score, reasons
        same, reordered, compact = idx.exact(normalize(name), key)
        for kids, score, why in (
            (same, EXACT_SCORE, "exact spelling"),
            (reordered, REORDERED_SCORE, "token order"),
            (compact, COMPACT_SCORE, "spacing"),
        ):
            for kid in kids:
                scored.setdefault(kid, (score, (why,)))

        wq = [idx.query_weight(t) for t in key]
        q_total = sum(wq)
        best: dict[int, Match] = {}
        # a dict, not a set: scored in a fixed order (the first of two equal scores for an entry is kept)
        contained = dict.fromkeys(kid for kid in idx.contained(key) if kid not in scored)
        for kid in [*idx.candidates(key, POSSIBLE - bonus, BETA, CANDIDATE_CAP), *contained]:
            if kid in scored:
                continue
            c = idx.keys[kid]
            mq, mc, fuzzy, unmatched = _align(key, wq, c, [idx.weight(t) for t in c])
            score = min(PARTIAL_CAP, _f_beta(mq / q_total, mc / idx.weight_sum[kid]))
            if kid in contained and score < CONTAINED_SCORE:
                scored[kid] = (CONTAINED_SCORE, ("listed name contained", "words differ"))
                continue
            if score + bonus < POSSIBLE or (fuzzy and len(key) == 1 and score < ONE_WORD_FUZZY_MIN):
                continue
            why = ["spelling variant"] if fuzzy else []
            if unmatched >= INFORMATIVE_WEIGHT:
                why.append("words differ")
            elif unmatched:
                why.append("minor words differ")
            scored[kid] = (score, tuple(why or ["spacing"]))  # all words met, some joined

        for kid, (score, why) in scored.items():
            for ref in idx.owners[kid]:
                m = self._evidence(ref, idx.keys[kid], score, why, cc, address)
                if m is not None:
                    old = best.get(ref.entry)
                    if old is None or m.rank > old.rank:
                        best[ref.entry] = m
        return best

    def explain(self, name: str, country: str | None = None, address: str | None = None,
                limit: int = 5) -> list[str]:
        """How each match's score was made: the query's words and weights, the listed spelling
        matched (name, alias, short form ...), the words paired, and the country and address evidence."""
        idx = self.index
        key = key_tokens(name)
        out = [f"matcher {logic.NAME} v{logic.VERSION} ({logic.digest()[:19]}); "
               f"strong >= {STRONG}, possible >= {POSSIBLE}",
               "query words (weight): " + (", ".join(f"{t} ({idx.query_weight(t):.2f})" for t in key) or "none")]
        for m in self.screen(name, country, address, limit):
            trace: list = []
            read = m.query_words or key
            if m.query_words:
                out.append(f"read as: {' '.join(read)}")
            wq = [idx.query_weight(t) for t in read]
            _align(read, wq, m.listed_words, [idx.weight(t) for t in m.listed_words], trace)
            paired_q = {w for q, _, _ in trace for w in q.split()}
            paired_c = {w for _, c, _ in trace for w in c.split()}
            out.append(f"{m.entry.list} {m.entry.entry_id}: {m.strength} {m.score} on {m.matched_name!r}")
            out.append("  listed words (weight): " + ", ".join(f"{t} ({idx.weight(t):.2f})" for t in m.listed_words))
            out.append("  paired: " + (", ".join(q if q == c else f"{q} ~ {c} ({sim:.2f})" for q, c, sim in trace)
                                       or "none"))
            extra = [t for t in read if t not in paired_q]
            missing = [t for t in m.listed_words if t not in paired_c]
            if extra or missing:
                out.append(f"  unpaired: query {', '.join(extra) or '-'}; listed {', '.join(missing) or '-'}")
            out.append("  reasons: " + "; ".join(m.reasons))
            countries = sorted(_entry_countries(m.entry))
            evidence = [f"listed in {', '.join(countries) or 'no stated country'}"]
            if country:
                sign = f"+{COUNTRY_AGREES}" if "country agrees" in m.reasons else (
                    f"-{COUNTRY_DIFFERS}" if "country differs" in m.reasons else "0")
                evidence.append(f"party's country {country} ({sign})")
            if address:
                evidence.append(f"address {'agrees' if 'address agrees' in m.reasons else 'does not agree'} "
                                f"({'+' + str(ADDRESS_AGREES) if 'address agrees' in m.reasons else '0'})")
            out.append("  evidence: " + "; ".join(evidence))
        return out

    def _evidence(
        self, ref: NameRef, words: tuple[str, ...], score: float, why: tuple[str, ...], cc: str | None,
        address: str | None,
    ) -> Match | None:
        """Apply country and address evidence to a name score; None if it ends below POSSIBLE."""
        entry = self.entries[ref.entry]
        exact = why[0] in _EXACT_REASONS
        reasons = [_KIND_REASON.get(ref.kind, ref.kind), *why]
        if ref.form in _FORM_REASON:
            reasons.append(_FORM_REASON[ref.form])
        score = min(score, _FORM_CAP.get(ref.form, 1.0))
        final = score
        if cc:
            countries = self._countries.get(ref.entry)
            if countries is None:
                countries = self._countries[ref.entry] = _entry_countries(entry)
            if cc in countries:
                final += COUNTRY_AGREES
                reasons.append("country agrees")
            elif countries:
                final -= COUNTRY_DIFFERS
                reasons.append("country differs")
                if exact and score >= STRONG:  # lists name parties in many countries: keep an exact name strong
                    final = max(final, STRONG)
        if address and _address_agrees(address, entry.addresses):
            final += ADDRESS_AGREES
            reasons.append("address agrees")
        # evidence never makes a name exact: only an exact spelling scores 1.0
        final = min(final, 1.0 if score >= EXACT_SCORE else max(score, PARTIAL_CAP))
        uncapped = round(max(0.0, final), 4)
        if "spelling variant" in why or "words differ" in why:
            final = min(final, REVIEW_CAP)
        final = round(max(0.0, final), 4)
        if final < POSSIBLE:
            return None
        strength: Literal["strong", "possible"] = "strong" if final >= STRONG else "possible"
        return Match(entry, ref.text, final, strength, tuple(reasons), words, ref.entry, uncapped=uncapped)


def _address_agrees(address: str, listed: Iterable[str]) -> bool:
    """Most words of the given address appear in one listed address."""
    words = set(key_tokens(address))
    if len(words) < ADDRESS_MIN_TOKENS:
        return False
    return any(
        len(words & set(key_tokens(a))) >= ADDRESS_MIN_SHARE * len(words) for a in listed
    )
