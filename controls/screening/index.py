"""An inverted index over every listed name, so a query is scored against a few names, not all.

Each distinct token key (the ``key_tokens`` of a name) is stored once, with the list spellings
that produce it. Candidates come from postings of the query's *informative* tokens: a token
found in many names ("technology", "china") is too common to block on, and its weight (IDF)
is small anyway. Query tokens that no listed name uses are looked up fuzzily in the
vocabulary, so a typo still reaches the right postings.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from functools import lru_cache
from itertools import groupby
from typing import Iterable, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from controls.cachefile import gc_paused
from controls.lists.countries import iso2_or_none
from controls.screening.chunks import Chunked, ChunkedMap
from controls.screening.logic import (  # noqa: F401
    BLOCKING_MAX_SHARE,
    CONTAINED_MIN_WORDS,
    CONTAINED_PREFIX_WEIGHT,
    FUZZY_LOOKUP_WEIGHT,
    FUZZY_MIN_LEN,
    FUZZY_MIN_SIMILARITY,
    IDF_SHIFT,
    MIN_WEIGHT,
    PLACE_WEIGHT,
    POSTINGS_WALK_BUDGET,
    RUN_MAX_LEN,
    RUN_MIN_PIECE,
    RUN_SOLE_MIN,
    UNDOUBLED_MIN_DROPPED,
    UNDOUBLED_MIN_LEN,
    UNDOUBLED_SELDOM,
)
from controls.screening.normalize import (
    PLACES,
    QUALIFIERS,
    STOPWORDS,
    edge_form,
    key_tokens,
    known_words,
    legal_words,
    normalize,
    run_piece,
    screenable,
)

__all__ = ["NameIndex", "NameRef", "name_variants", "token_similarity", "CONTAINED_MIN_WORDS"]

_PARENS = re.compile(r"\s*\(([^()]*)\)")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&\-]{1,9}(?: [0-9]{1,3})?$")
_SHORT_FORM = re.compile(r"^[A-Z][^,;:]{2,60}$")
_LEGAL_ONLY = frozenset({"group", "private", "pvt", "pty", "partnership"})
# "<parent>, Joint Stock Company <subsidiary>": the subsidiary's own name after its legal form
_OWN_NAME = re.compile(r",\s*(?:(?:Public|Open|Closed)\s+)?Joint[- ]Stock\s+Company\s+(.{3,})$")


# rapidfuzz drops a score equal to its cutoff (1 - 1/5 is not >= 0.8 there): it is given a lower
# cutoff, and scores are compared here
_CUTOFF = FUZZY_MIN_SIMILARITY - 0.01
_AT_LEAST = FUZZY_MIN_SIMILARITY - 1e-9


_REPEATED = re.compile(r"(.)\1+")
_LEGAL_WORDS = legal_words()


def _once(word: str) -> str:
    """``word`` with each letter written once where it is written more times in a row: "huuaawwei" -> "huawei"."""
    return _REPEATED.sub(r"\1", word)


def _dropped_enough(written: list[tuple[str, int]], listed: list[tuple[str, int]]) -> bool:
    """Whether a word (its ``_runs``: ``written``) writes UNDOUBLED_MIN_DROPPED more letters than a spelling of the
    same letters (``listed``), or one fewer and one of the letters doubled is one names seldom double
    (UNDOUBLED_SELDOM: "Huuaawei", "Hikkvision"; not Ammann, Colletta)."""
    dropped = sum(n for _, n in written) - sum(m for _, m in listed)
    if dropped >= UNDOUBLED_MIN_DROPPED:
        return True
    return dropped == UNDOUBLED_MIN_DROPPED - 1 and any(
        n > m and letter in UNDOUBLED_SELDOM for (letter, n), (_, m) in zip(written, listed))


def _runs(word: str) -> list[tuple[str, int]]:
    """Each letter of ``word`` with the times it is written in a row: "huuawwei" -> h 1, u 2, a 1, w 2, e 1, i 1."""
    return [(letter, len(list(run))) for letter, run in groupby(word)]


def _edits_allowed(length: int) -> int:
    """Edits a word of ``length`` letters may differ by and still be a spelling variant (one in five)."""
    return int(length * (1 - _AT_LEAST))


# the shortest words that may be two, three edits from a variant of theirs (10 and 15 letters)
_TWO_EDITS_LEN = next(n for n in range(1, 100) if _edits_allowed(n) >= 2)
_THREE_EDITS_LEN = next(n for n in range(1, 100) if _edits_allowed(n) >= 3)


def _deletions(word: str, most: int) -> set[str]:
    """``word`` and every spelling of it with one letter left out, and (``most`` 2) two letters."""
    out = {word[:i] + word[i + 1:] for i in range(len(word))}
    out.add(word)
    if most >= 2:
        out.update(word[:i] + word[i + 1:j] + word[j + 1:] for j in range(len(word)) for i in range(j))
    return out


def token_similarity(a: str, b: str) -> float:
    """How alike two words are, 0.0 below FUZZY_MIN_SIMILARITY (a typo, not another word). The
    longer word has FUZZY_MIN_LEN letters at least, so "Grup" is "Group" misspelt."""
    if max(len(a), len(b)) < FUZZY_MIN_LEN or min(len(a), len(b)) < FUZZY_MIN_LEN - 1:
        return 0.0
    score = OSA.normalized_similarity(a, b, score_cutoff=_CUTOFF)
    return score if score >= _AT_LEAST else 0.0


class NameRef(NamedTuple):
    """One listed spelling: which entry, the text as printed, its role ("name", "alias"...) and
    which form of it was indexed ("full", "bare" without parentheses, "acronym")."""

    entry: int
    text: str
    kind: str
    form: str = "full"


def name_variants(text: str) -> list[tuple[str, str]]:
    """Strings to index for one listed name, each with its form ("full", "bare", "acronym", "short").

    Lists put acronyms, short forms and places in parentheses ("... Institute (NUDT)", "...
    (HiSilicon)", "... (Shanghai) Co."); a customer usually writes the name without them, or only
    the acronym or short form. A subsidiary listed under its parent ("Concern Radio-Electronic
    Technologies, Public Joint Stock Company Techpribor") is also known by its own name.
    """
    out = [(text, "full")]
    if "(" in text:  # most names have none
        bare = _PARENS.sub(" ", text).strip(" ,;")
        if bare and bare != text:
            out.append((bare, "bare"))
        for inner in _PARENS.findall(text):
            inner = inner.strip()
            if _ACRONYM.match(inner) and not set(key_tokens(inner)) <= _LEGAL_ONLY:  # "(GROUP)" is no acronym
                out.append((inner, "acronym"))
            elif _short_form(inner):
                out.append((inner, "short"))
    own = _OWN_NAME.search(text)
    if own and len(key_tokens(own.group(1))) >= 1 and key_tokens(own.group(1)) != key_tokens(text):
        out.append((own.group(1), "short"))
    return out


def _short_form(inner: str) -> bool:
    """A parenthesised short name ("HiSilicon", "JSC NICEVT", "Dart Aviation Technics"), not a place
    ("Shanghai", "Hong Kong"), a legal form ("Pvt") or a remark ("a subsidiary of ...")."""
    if not _SHORT_FORM.match(inner):
        return False
    words = [w for w in key_tokens(inner) if w not in STOPWORDS]
    if not words or all(w in PLACES or w in _LEGAL_ONLY for w in words) or iso2_or_none(inner):
        return False
    # one plain word is as likely a place as a name ("Kunshan"); a cased or numbered one is a name
    return len(words) >= 2 or bool(re.search(r"[a-z][A-Z]|[A-Z]{2}|\d", inner))


def _lightest_failing(f1p: float, b2p: float, gc: float, floor: float) -> float:
    """The weight from which on no name whose bound (``candidates``) has these terms reaches ``floor``:
    the bound f1p * r / (b2p + r), r = gc / weight (at most 1), grows with r. With a margin far above
    rounding errors (infinite where the bound is too flat in r for a margin to be sure): the names it
    passes over would all be reckoned below ``floor``."""
    if floor <= 0 or gc <= 0 or b2p < 1e-3:
        return math.inf
    if f1p < floor * (1 - 1e-9):  # the bound stays below f1p, whatever r
        return 0.0
    if f1p <= floor * (1 + 1e-9):
        return math.inf
    return gc * (f1p - floor) / (floor * b2p) * (1 + 1e-6)


class NameIndex:
    """Token keys of listed names with postings, IDF weights and exact-spelling tables."""

    # what a built index holds: a cached index of another format is built again (parties._indexed)
    # 6: entries, spellings behind each key and exact-spelling tables kept in parts (screening.chunks);
    # 7: the vocabulary (postings, fuzzy pools) in the order names first use a word, not in hash order
    # 8: listed words by their letters each written once (``undoubled``); 9: the longest word's length;
    # 10: "(GROUP)" no acronym
    FORMAT = 10

    def __init__(self, refs: Iterable[NameRef]):
        with gc_paused():
            self._build(refs)
        self._caches()

    def _build(self, refs: Iterable[NameRef]) -> None:
        key_ids: dict[tuple[str, ...], int] = {}
        self.keys: list[tuple[str, ...]] = []
        self.owners: list[list[NameRef]] = []
        self.acronym: list[bool] = []
        self.by_norm: dict[str, set[int]] = defaultdict(set)
        seen: set[tuple[int, tuple[str, ...]]] = set()
        refs = list(refs)
        # listed spellings first: a key both listed (an alias) and derived (a short form) is the listed one
        variants = [(ref, text, form) for ref in refs for text, form in name_variants(ref.text)]
        variants.sort(key=lambda v: v[2] != "full")
        for ref, text, form in variants:
            key = key_tokens(text)
            if not key or (ref.entry, key) in seen or (form != "full" and not screenable(text)):
                continue  # a derived form that names no one: "(LIMITED)" is no acronym
            seen.add((ref.entry, key))
            kid = key_ids.get(key)
            if kid is None:
                kid = key_ids[key] = len(self.keys)
                self.keys.append(key)
                self.owners.append([])
                self.acronym.append(True)
            self.owners[kid].append(NameRef(ref.entry, ref.text, ref.kind, form))
            self.acronym[kid] = self.acronym[kid] and form == "acronym"
            self.by_norm[normalize(text)].add(kid)
        self.owners = Chunked(self.owners)  # read for the keys a query scores: the rest stays pickled

        postings: dict[str, list[int]] = defaultdict(list)
        self.by_sorted: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.by_compact: dict[str, list[int]] = defaultdict(list)
        for kid, key in enumerate(self.keys):
            self.by_sorted[tuple(sorted(key))].append(kid)
            if self.acronym[kid]:
                continue  # acronyms match only exactly: fuzzy 3-letter strings are noise
            self.by_compact["".join(key)].append(kid)
            for tok in dict.fromkeys(key):  # not set(key): the vocabulary's order must not depend on the hash seed
                postings[tok].append(kid)
        self.postings = dict(postings)
        # each read once a query (``exact``): the rest stays pickled
        self.by_norm = ChunkedMap(self.by_norm)
        self.by_sorted = ChunkedMap(self.by_sorted)
        self.by_compact = ChunkedMap(self.by_compact)

        n = max(len(self.keys), 1)
        self.block_max_df = max(20, int(n * BLOCKING_MAX_SHARE))
        # keys looked for inside longer queries, each reachable from its rarest word (a query holding
        # all of a key's words holds that one)
        by_anchor: dict[str, list[int]] = defaultdict(list)
        for kid, key in enumerate(self.keys):
            words = set(key)
            rarest = min(words, key=lambda t: (len(postings[t]), t))
            common = len(postings[rarest]) > self.block_max_df
            if not self.acronym[kid] and len(words) >= CONTAINED_MIN_WORDS and not (common and len(words) == 2):
                by_anchor[rarest].append(kid)
        self._by_anchor = ChunkedMap(by_anchor)  # read for each query word: the rest stays pickled

        self.weights = {
            t: self._weigh(t, math.log((n + 1) / (len(p) + 0.5))) for t, p in self.postings.items()
        }
        self.unknown_weight = self._weigh("", math.log((n + 1) / 0.5))
        self.weight_sum = [sum(self.weight(t) for t in key) for key in self.keys]
        # each posting list lightest name first: a query reaches a name only if the name's weight is
        # within a bound, so a walk stops early (``_reached``)
        for kids in self.postings.values():
            kids.sort(key=self.weight_sum.__getitem__)

        # fuzzy look-up pools: words by first letter and by last letter, shortest first (in vocabulary
        # order within a length); a typo keeps one end of a word, and a similar word has a similar length
        by_end: dict[tuple[str, str], list[str]] = defaultdict(list)
        for tok in self.postings:
            if len(tok) >= FUZZY_MIN_LEN - 1:
                by_end["^", tok[0]].append(tok)
                by_end["$", tok[-1]].append(tok)
        for pool in by_end.values():
            pool.sort(key=len)
        self._by_end = ChunkedMap(by_end)  # two pools read a fuzzy look-up: the rest stays pickled
        # ... and, for words short enough that one edit is all a spelling variant may have, the word
        # and each spelling of it with one letter left out: two words one edit apart share one of
        # them, so a look-up reads a few entries instead of comparing a whole pool
        self._vocabulary = list(self.postings)  # a word's number is its place in the vocabulary
        by_deletion: dict[str, list[int]] = defaultdict(list)
        for number, tok in enumerate(self._vocabulary):
            if FUZZY_MIN_LEN - 1 <= len(tok) < _TWO_EDITS_LEN:
                for variant in sorted(_deletions(tok, 1)):  # a built index the same whatever the hash seed
                    by_deletion[variant].append(number)
        # most spellings are one word's: a number, not a list of one (the cached index loads faster)
        self._by_deletion = {v: ids[0] if len(ids) == 1 else tuple(ids) for v, ids in by_deletion.items()}
        # a word's spellings with one or two letters left out begin with one of its first three letters:
        # bucketed by their first letter, a look-up reads two or three buckets of the pickled table
        self._by_deletion = ChunkedMap(self._by_deletion, prefix=1)
        # listed words (and those normalisation reads: "technologies", "liability") by their letters each written
        # once: a word with letters written twice or more finds the words it may be (``undoubled``)
        by_letters: dict[str, list[str]] = defaultdict(list)
        known = sorted(known_words())
        for word in (*self.postings, *known):
            read = run_piece(word)  # "" for a legal form
            if word.isalpha() and (read in self.postings or not read):
                by_letters[_once(word)].append(word)
        self._longest_word = max(map(len, (*self.postings, *known, *STOPWORDS)), default=0)
        self._by_letters = ChunkedMap({letters: tuple(dict.fromkeys(words)) for letters, words in by_letters.items()})

    def __len__(self) -> int:
        return len(self.keys)

    def __getstate__(self) -> dict:
        """Pickled without its look-up cache (parties.py keeps built indexes beside the list store)."""
        state = self.__dict__.copy()
        for cache in ("similar_tokens", "_pool", "_anchored", "_reach", "undoubled"):
            state.pop(cache, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._caches()

    def _caches(self) -> None:
        """Look-ups a query repeats: a word's fuzzy matches, the pools of words a fuzzy look-up compares
        (some 50 letters times 30 lengths), what a word reaches and anchors (names share words), and a word
        read with its letters written once (``undoubled``)."""
        self.similar_tokens = lru_cache(maxsize=32768)(self._similar_tokens)
        self._pool = lru_cache(maxsize=4096)(self._pool_of)
        self._anchored = lru_cache(maxsize=32768)(self._anchored_of)
        self._reach = lru_cache(maxsize=32768)(self._reach_of)
        self.undoubled = lru_cache(maxsize=32768)(self._undoubled)

    @staticmethod
    def _weigh(token: str, idf: float) -> float:
        if token in QUALIFIERS:
            return MIN_WEIGHT
        w = max(idf - IDF_SHIFT, MIN_WEIGHT)
        return w * PLACE_WEIGHT if token in PLACES else w

    def weight(self, token: str) -> float:
        """Weight of a listed word: IDF less IDF_SHIFT, halved for places; rare words identify
        a party, common ones barely do, unknown ones weigh most."""
        return self.weights.get(token, self.unknown_weight)

    def query_weight(self, token: str) -> float:
        """Weight of a query word: as ``weight``, but an unlisted word weighs as its closest
        listed spelling (a typo of a rare word is as informative as the word)."""
        if token in self.weights:
            return self.weights[token]
        similar = self.similar_tokens(token)
        return max((self.weights[t] for t, _ in similar), default=self.unknown_weight)

    def _similar_tokens(self, token: str) -> tuple[tuple[str, float], ...]:
        """Vocabulary tokens spelled like ``token`` (a word no listed name uses), with similarity: the
        best three of the words of about its length that share its first or last letter.

        Listed words shorter than _TWO_EDITS_LEN letters are reached through ``_by_deletion``: a word
        one edit from a listed one shares a one-letter deletion with it (a word of 10 or 11 letters, up
        to two edits from a shorter listed one, a two-letter deletion of itself; a word of 12 or more is
        too many edits from any). Longer listed words, which may be two edits or more away, are all
        compared with it (they are few; a word of 7 letters or fewer is too many edits from any)."""
        n = len(token)
        if n < FUZZY_MIN_LEN - 1:
            return ()
        spread = int(n * (1 - FUZZY_MIN_SIMILARITY)) + 1
        lo, hi = n - spread, n + spread
        found: dict[str, tuple[float, int]] = {}  # word -> similarity, its rank among words of its length
        edits = _edits_allowed(n)
        if n - edits < _TWO_EDITS_LEN:  # a listed word of the deletion table may be within reach
            numbers: set[int] = set()
            for words in self._by_deletion.found(_deletions(token, max(1, edits))):
                if isinstance(words, tuple):
                    numbers.update(words)
                else:
                    numbers.add(words)
            for number in numbers:
                tok = self._vocabulary[number]
                if lo <= len(tok) <= hi and (tok[0] == token[0] or tok[-1] == token[-1]):
                    score = OSA.normalized_similarity(token, tok, score_cutoff=_CUTOFF)
                    if score >= _AT_LEAST and max(len(tok), n) >= FUZZY_MIN_LEN and tok != token:
                        found[tok] = (score, number)
        lo = max(lo, _TWO_EDITS_LEN)
        if lo <= hi:  # the words of lo-hi letters, each pool compared in one call
            for end in (("^", token[0]), ("$", token[-1])):
                pool = self._pool(end, lo, hi)
                for tok, score, place in process.extract(token, pool, scorer=OSA.normalized_similarity,
                                                         score_cutoff=_CUTOFF, limit=None) if pool else ():
                    if score >= _AT_LEAST and max(len(tok), n) >= FUZZY_MIN_LEN and tok != token:
                        found.setdefault(tok, (score, place))
        # ties as the pools are read: shorter words first, then those sharing the first letter, then
        # in vocabulary order (which a pool keeps)
        ranked = sorted(found.items(), key=lambda f: (-f[1][0], len(f[0]), f[0][0] != token[0], f[1][1]))
        return tuple((tok, score) for tok, (score, _) in ranked[:3])

    def _pool_of(self, end: tuple[str, str], lo: int, hi: int) -> list[str]:
        """The words of ``lo`` to ``hi`` letters that begin (``"^"``) or end (``"$"``) with a letter, shortest
        first."""
        pool = self._by_end.get(end, [])
        return pool[bisect_left(pool, lo, key=len):bisect_right(pool, hi, key=len)]

    def exact(self, norm: str, key: tuple[str, ...]) -> tuple[set[int], set[int], set[int]]:
        """Keys spelled exactly like the query, keys with the same words in another order,
        and keys equal once spaces are ignored ("Hi Silicon" / "HiSilicon")."""
        same = self.by_norm.get(norm, set())
        reordered = set(self.by_sorted.get(tuple(sorted(key)), ())) - same
        compact = set(self.by_compact.get("".join(key), ())) - same - reordered
        return same, reordered, compact

    def split_run(self, word: str) -> tuple[tuple[str, ...], bool] | None:
        """``word``, which no listed name has, as listed words run together ("huaweitechnologies" -> "huawei",
        "technologies"): the fewest pieces, each read (``run_piece``) as a listed word of RUN_MIN_PIECE letters
        or more, or as a legal form or stopword, at least one a listed word, a legal form that is also a syllable
        only at the word's start or end and of RUN_MIN_PIECE letters ("zao", "pao": "ZAOSparta"; "sa", "as" end
        too many words: "Patriotas"); of two splits into as many, the one of
        commoner words ("enterprise state", not "enterprises tate", "optics and", not "optic sand").  With it,
        whether the split is sure: not if it starts or ends with a stopword ("albright": al + bright) or such a form
        ("zaosparta": zao + sparta), or if its
        one listed word is shorter than RUN_SOLE_MIN letters or stands with a form shorter than RUN_MIN_PIECE
        ("laderas": la + de + ras, "bellaco": bella + co), which ordinary words are read as.  None when there is
        no such split (most words)."""
        n = len(word)
        if n < 2 * RUN_MIN_PIECE or n > RUN_MAX_LEN or word in self.postings or not word.isalnum():
            return None
        # best[i]: (pieces, their weight, listed pieces) of the best split of word[:i]
        best: list[tuple[int, float, int, int] | None] = [None] * (n + 1)  # ..., where the last piece starts
        best[0] = (0, 0.0, 0, 0)
        for i in range(1, n + 1):
            for j in range(i - 1, max(-1, i - self._longest_word - 1), -1):  # no piece longer than a known word
                if best[j] is None or (j == 0 and i == n):
                    continue
                piece = word[j:i]
                read = run_piece(piece)  # "" for a legal form or a stopword
                if piece.isdigit():  # a number is one piece, whatever its length ("china612institute")
                    if (j and word[j - 1].isdigit()) or (i < n and word[i].isdigit()) or piece not in self.postings:
                        continue
                elif not piece.isalpha() or (read and (len(piece) < RUN_MIN_PIECE or read not in self.postings)) \
                        or (not read and edge_form(piece) and (0 < j and i < n or len(piece) < RUN_MIN_PIECE)):
                    continue
                count, weight, listed, _ = best[j]
                found = (count + 1, weight + (self.weight(read) if read else 0.0), listed + bool(read), j)
                if best[i] is None or found[:2] < best[i][:2]:
                    best[i] = found
        if best[n] is None or not best[n][2]:
            return None
        pieces, i = [], n
        while i:
            j = best[i][3]
            pieces.append(word[j:i])
            i = j
        pieces.reverse()
        listed = [piece for piece in pieces if run_piece(piece)]
        sure = not any(run_piece(p) == "" and (p in STOPWORDS or edge_form(p)) for p in (pieces[0], pieces[-1])) and (
            len(listed) > 1 or (len(listed[0]) >= RUN_SOLE_MIN and min(map(len, pieces)) >= RUN_MIN_PIECE))
        return tuple(pieces), sure

    def splits_into(self, word: str, listed: frozenset[str]) -> bool:
        """Whether ``word`` is two or more of the words ``listed`` run together, each of RUN_MIN_PIECE letters or
        more: a piece ``split_run`` cut as the fewest ("northwestern") that the listed name has as two words
        ("North Western")."""
        n = len(word)
        pieces: list[int] = [0] + [-1] * n  # the fewest pieces word[:i] splits into (-1: none)
        for i in range(RUN_MIN_PIECE, n + 1):
            for j in range(max(0, i - self._longest_word), i - RUN_MIN_PIECE + 1):
                if pieces[j] >= 0 and (pieces[i] < 0 or pieces[j] + 1 < pieces[i]) and word[j:i] in listed:
                    pieces[i] = pieces[j] + 1
        return pieces[n] >= 2

    def _undoubled(self, word: str) -> str | None:
        """``word``, which no listed name has, as a listed word (or a legal form) with the same letters in the same
        order, each written as many times or fewer ("huuaawwei" -> "huawei", "husssseinn" -> "hussein",
        "teechhnooloogiiess" -> "technology", "liiabbillitty" -> "liability"), UNDOUBLED_MIN_DROPPED letters
        shorter at least and no shorter than UNDOUBLED_MIN_LEN; of several, the longest.  None when there is none
        (most words)."""
        if word in self.postings or not word.isalpha() or not run_piece(word):  # listed, or a legal form ("ooo")
            return None
        written = _runs(word)
        found = []
        for spelling in self._by_letters.get(_once(word), ()):  # the same letters, each written as often or less
            listed = _runs(spelling)
            if len(spelling) >= UNDOUBLED_MIN_LEN and all(m <= n for (_, n), (_, m) in zip(written, listed)) \
                    and _dropped_enough(written, listed):
                found.append((len(spelling), spelling))
        if not found:
            return None
        spelling = max(found)[1]
        return run_piece(spelling) or spelling

    def contained(self, key: tuple[str, ...]) -> list[int]:
        """Keys whose words the query all has, and more: a listed name with words added to it
        ("... Co., Ltd. Purchasing Department"). Acronyms, which match only exactly, are left out.

        Words added in front of a listed name make another name ("Wanhua" Chemical Group, "Hon Hai"
        Precision Industry), unless they only place or qualify it ("Shenzhen" Huawei Technologies).
        """
        words = set(key)
        found = []
        for tok in dict.fromkeys(key):  # in the query's order, as ``candidates``
            for kid, listed in self._anchored(tok):
                if listed < words and self._qualified_only(key, listed):
                    found.append(kid)
        return found

    def _reach_of(self, tok: str) -> tuple[float, tuple[tuple[str, float, float], ...]]:
        """A query word's weight, and the listed words it reaches, each with its similarity and the query word's
        weight (``candidates``' look-ups): itself if listed, and its spelling variants if it is rare or unlisted
        (a listed word may be misspelt as another listed word: "Fondation" / "Foundation")."""
        wq, listed = self.query_weight(tok), tok in self.postings
        reached = ((tok, 1.0),) if listed else ()
        if wq >= FUZZY_LOOKUP_WEIGHT or not listed:
            reached += self.similar_tokens(tok)
        return wq, tuple((t, sim, wq) for t, sim in reached)

    def _anchored_of(self, tok: str) -> tuple[tuple[int, frozenset[str]], ...]:
        """The keys ``contained`` looks for in a query holding ``tok``, their rarest word, each with its words."""
        return tuple((kid, frozenset(self.keys[kid])) for kid in self._by_anchor.get(tok, ()))

    def _qualified_only(self, key: tuple[str, ...], listed: frozenset[str]) -> bool:
        """Whether the query's words before the first of the listed name's only place or qualify it."""
        for tok in key:
            if tok in listed:
                return True
            if not (tok in PLACES or tok in QUALIFIERS or self.weight(tok) < CONTAINED_PREFIX_WEIGHT):
                return False
        return True

    def _reached(self, token: str, heaviest: float) -> list[int]:
        """The key ids of ``token``'s postings whose names weigh at most ``heaviest``."""
        kids = self.postings[token]
        return kids[:bisect_right(kids, heaviest, key=self.weight_sum.__getitem__)]

    def candidates(self, key: tuple[str, ...], floor: float, beta: float, cap: int) -> list[int]:
        """Up to ``cap`` key ids that could reach ``floor``, best upper bound first.

        Keys are reached through the query's informative words (or, failing any, all of its
        words). The bound assumes each common query word not used for blocking is matched, so
        among the keys reached it never drops one the scorer would keep; a key sharing only
        common words with a query that has informative ones is not reached (it would score
        low: the query's informative words would be unmatched).
        """
        lookups: list[tuple[str, float, float]] = []  # (vocabulary token, similarity, query weight)
        postings, weights = self.postings, self.weights
        query_weights: dict[str, float] = {}  # each word's once: the sums below read them
        # in the query's word order, not a set's (which follows the process's hash seed): the walk order, the
        # float sums and the stable sorts below follow it, and so does which of two equal scores is kept
        for tok in dict.fromkeys(key):
            query_weights[tok], reached = self._reach(tok)
            lookups += reached
        for first, second in zip(key, key[1:]):  # "Sa dallah" may be listed as "Sadallah"
            joined = first + second
            if joined in postings:
                lookups.append((joined, 1.0, weights[joined]))
        q_total = sum(query_weights[t] for t in key) or 1.0
        b2 = beta * beta

        def below_floor(margin: float = 0.0) -> bool:
            """Whether the query's look-ups could not make any name reach ``floor``, were all of them met."""
            p_max = min(1.0, sum(wq * sim for _, sim, wq in lookups) / q_total)
            return p_max <= 0 or (1 + b2) * p_max / (b2 * p_max + 1) < floor * (1 - margin)

        # most of the query is words no listed name has (most new names): answered before the walk is planned,
        # with a margin for the sum's order, which the sort below may change
        if below_floor(1e-9):
            return []
        sizes = {lk[0]: len(postings[lk[0]]) for lk in lookups}
        informative = [lk for lk in lookups if sizes[lk[0]] <= self.block_max_df]
        if not informative:  # only common words ("China Technology Group"): use them all
            informative = lookups
        informative.sort(key=lambda lk: sizes[lk[0]])  # rarest first (``lookups`` too, when it is them)
        if below_floor():
            return []

        # within the walk budget (the rarest always): a word left unwalked counts as matched in the
        # bound, like a common one, so the walk's cost stops growing with list size
        walked, budget = [], POSTINGS_WALK_BUDGET
        for lk in informative:
            size = sizes[lk[0]]
            if walked and size > budget:
                continue
            walked.append(lk)
            budget -= size
        informative = walked
        blocked = {lk[0] for lk in informative}
        optimistic_q = sum(wq for t, _, wq in lookups if t not in blocked)
        optimistic_c = sum(weights[t] for t, _, _ in lookups if t not in blocked)
        # the heaviest name that could reach ``floor``: one the query covers as much as it can be
        # covered (p_most), with every walked word in it (recall falls as the name weighs more)
        gains = [(wq * sim, weights[tok] * sim) for tok, sim, wq in informative]  # each walked word's, both sides
        p_most = min(1.0, (sum(gq for gq, _ in gains) + optimistic_q) / q_total)
        if floor > 0 and b2 > 0 and (1 + b2) * p_most > floor:
            r_least = floor * b2 * p_most / ((1 + b2) * p_most - floor)
            heaviest = (sum(gc for _, gc in gains) + optimistic_c) / r_least
            heaviest *= 1 + 1e-9  # the bound below decides; this only skips names far from it
        else:
            heaviest = math.inf
        f1 = 1 + b2

        def terms_of(mask: int) -> tuple[float, float, float]:
            """The walked words that reach a name, as the bits of a mask: names reached by the same words
            gain alike, so what they gain (summed in walk order) is reckoned once a mask, not once a name."""
            gq = gc = 0.0
            while mask:  # its bits, lowest first
                bit = mask & -mask
                mask ^= bit
                word_q, word_c = gains[bit.bit_length() - 1]
                gq += word_q
                gc += word_c
            p = (gq + optimistic_q) / q_total
            p = 1.0 if p > 1.0 else p
            return f1 * p, b2 * p, gc + optimistic_c

        # Of the names one walked word reaches (lightest first), only those up to a weight can reach ``floor``
        # (``_lightest_failing``): the bound is reckoned for those alone. The names reached by two words or more
        # are grouped by the words that reach them (their mask), in set operations, and each group likewise.
        weight_sum = self.weight_sum
        walks = [self._reached(tok, heaviest) for tok, _, _ in informative]
        seen: set[int] = set()
        shared: set[int] = set()
        for kids in walks:
            if seen:
                shared.update(seen.intersection(kids))
            seen.update(kids)
        groups: dict[int, set[int]] = {0: shared} if shared else {}
        for n, kids in enumerate(walks):
            inside = shared.intersection(kids) if groups else None
            if not inside:
                continue
            split = {}  # bit n is in no mask yet: the masks of the parts are all new
            for mask, group in groups.items():
                both = group & inside
                if both:
                    split[mask | 1 << n] = both
                if len(both) < len(group):
                    split[mask] = group - both if both else group
            groups = split
        scored: list[tuple[float, int]] = []
        for mask, group in [*((1 << n, None) for n, kids in enumerate(walks) if kids), *groups.items()]:
            f1p, b2p, gc = terms_of(mask)
            limit = _lightest_failing(f1p, b2p, gc, floor)
            if not limit:  # these words cannot make any name reach ``floor`` (most masks)
                continue
            if group is None:  # the names one word alone reaches, up to the limit
                kids = walks[mask.bit_length() - 1]
                kids = [kid for kid in kids[:bisect_left(kids, limit, key=weight_sum.__getitem__)] if kid not in shared]
            else:
                kids = [kid for kid in group if weight_sum[kid] < limit]
            for kid in kids:
                r = gc / weight_sum[kid]
                r = 1.0 if r > 1.0 else r
                bound = f1p * r / (b2p + r)
                if bound >= floor:
                    scored.append((bound, kid))
        scored.sort(reverse=True)
        return [kid for _, kid in scored[:cap]]
