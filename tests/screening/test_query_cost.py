"""What a query costs stays flat as the lists grow: counted, not timed, on the real lists.

The fuzzy look-up of a word reaches the listed words one edit away through their one-letter
deletions instead of comparing it with every listed word of its length; it must find exactly
what that comparison finds.
"""
from __future__ import annotations

import random
from functools import lru_cache

import pytest
from rapidfuzz import process
from rapidfuzz.distance import OSA

from controls.lists import ListStore
from controls.screening import Screener, matcher
from controls.screening.index import _AT_LEAST, _CUTOFF, FUZZY_MIN_LEN, FUZZY_MIN_SIMILARITY, NameIndex
from controls.screening.normalize import key_tokens


@pytest.fixture(scope="module")
def screener(list_store):
    return Screener(e for entries in ListStore(list_store).screening_lists().values() for e in entries)


def _scanned(index, token: str) -> tuple[tuple[str, float], ...]:
    """The look-up by comparing ``token`` with every listed word of about its length sharing its
    first or last letter, best three first, ties in the order the words were compared (by length,
    first letter before last, in vocabulary order)."""
    n = len(token)
    if n < FUZZY_MIN_LEN - 1:
        return ()
    spread = int(n * (1 - FUZZY_MIN_SIMILARITY)) + 1
    best: dict[str, float] = {}
    for length in range(n - spread, n + spread + 1):
        for end, letter in ((0, token[0]), (-1, token[-1])):
            pool = [tok for tok in _vocabulary(index, length) if tok[end] == letter]
            for tok, score, _ in process.extract_iter(token, pool, scorer=OSA.normalized_similarity,
                                                      score_cutoff=_CUTOFF):
                if score >= _AT_LEAST and max(len(tok), n) >= FUZZY_MIN_LEN and tok != token:
                    best.setdefault(tok, score)
    return tuple(sorted(best.items(), key=lambda ts: -ts[1])[:3])


@lru_cache(maxsize=None)
def _vocabulary(index, length: int) -> list[str]:
    return [tok for tok in index.postings if len(tok) == length and length >= FUZZY_MIN_LEN - 1]


def _edited(word: str, rng: random.Random, edits: int) -> str:
    for _ in range(edits):
        k = rng.randrange(len(word))
        word = rng.choice((
            word[:k] + word[k + 1:],                                  # a letter dropped
            word[:k] + rng.choice("aeinorst") + word[k:],             # one added
            word[:k] + rng.choice("aeinorst") + word[k + 1:],         # one replaced
            word[:k] + word[k + 1:k + 2] + word[k:k + 1] + word[k + 2:],  # two swapped
        ))
    return word


def test_the_fuzzy_look_up_finds_what_comparing_every_word_finds(screener):
    index = screener.index
    rng = random.Random(11)
    listed = rng.sample(sorted(index.postings), 1500)
    words = listed + [_edited(w, rng, 1) for w in listed] + [_edited(w, rng, 2) for w in listed if len(w) >= 9]
    words += ["".join(rng.choice("bdgkmnrstvz") + rng.choice("aeiou") for _ in range(rng.randrange(2, 9)))
              for _ in range(500)]  # invented words, 4 to 16 letters
    assert any(len(w) >= 15 for w in words) and any(len(w) == 10 for w in words)
    differ = [w for w in words if index.similar_tokens(w) != _scanned(index, w)]
    assert not differ, differ[:5]


COMMON_WORDS = ("China Technology Co Ltd", "China Electronics Technology Group",
                "Beijing Science and Technology Research Institute", "Shenzhen Technology Trading Co., Ltd.")


def _cost(screener, name: str, monkeypatch) -> tuple[int, int]:
    """Postings a screen of ``name`` reads and listed names it scores in full."""
    reached, scored = [], []
    walk, align = NameIndex._reached, matcher._align
    monkeypatch.setattr(NameIndex, "_reached", lambda self, *a: reached.append(len(r := walk(self, *a))) or r)
    monkeypatch.setattr(matcher, "_align", lambda *a, **k: scored.append(1) or align(*a, **k))
    screener.screen(name)
    monkeypatch.undo()
    return sum(reached), len(scored)


def _invented(k: int) -> str:
    word = ""
    for _ in range(4):
        k, i = divmod(k, 70)
        word += "bdfgklmnprstvz"[i % 14] + "aeiou"[i // 14]
    return word.title()


def test_a_query_of_common_words_costs_as_little_on_lists_far_larger(list_store, screener, monkeypatch):
    """Common words are in thousands of listed names; a query of them reads a few postings and
    scores a few names, on the eCFR lists alone and on every list with two more names for each
    listed name (its name and an invented word: seven times the names, the common words' postings
    more than twice as long)."""
    store = ListStore(list_store)
    ecfr = [e for name, key in store.screening_keys().items() if key.startswith("ecfr:")
            for e in store.screening_lists()[name]]
    grown = [*screener.entries, *(e.model_copy(update={"entry_id": f"{e.entry_id}-{k}", "aliases": [],
                                                       "name": f"{e.name} {_invented(k)}"})
                                  for k, e in enumerate([*screener.entries] * 2))]
    small, large = Screener(ecfr), Screener(grown)
    assert len(large.index) > 7 * len(small.index)
    assert len(large.index.postings["technology"]) > 2 * len(small.index.postings["technology"])
    for name in COMMON_WORDS:
        for lists in (small, large):
            reached, scored = _cost(lists, name, monkeypatch)
            assert reached <= 100 and scored <= 60, (name, len(lists.entries), reached, scored)


def test_the_candidate_walk_passes_over_only_names_that_cannot_reach_the_floor(screener, monkeypatch):
    """Of the names a walked word reaches, the bound is reckoned only for those lighter than a weight
    derived from its terms: the candidates, bounds and order are those of reckoning it for every name."""
    from controls.screening import index as index_module

    index, rng = screener.index, random.Random(5)
    keys = [index.keys[k] for k in rng.sample(range(len(index.keys)), 1500)]
    queries = keys + [k[:-1] + (_edited(k[-1], rng, 1),) for k in keys if len(k) >= 2]
    queries += [k[1:] + (_invented(i).lower(),) for i, k in enumerate(keys[:500])]
    queries += [(_invented(i).lower(), "hong", "kong", "industrial") for i in range(50)]

    def walk(floor: float) -> list[list[int]]:
        return [index.candidates(q, floor, matcher.BETA, 10**6) for q in queries]

    for floor in (matcher.POSSIBLE, matcher.POSSIBLE - 0.03, 0.5):
        bounded = walk(floor)
        with monkeypatch.context() as m:
            m.setattr(index_module, "_lightest_failing", lambda *_: float("inf"))
            assert walk(floor) == bounded
        assert sum(map(len, bounded)) > len(queries)


def test_a_new_name_whose_invented_word_weighs_most_of_it_reads_no_posting(screener, monkeypatch):
    """An order's new customer is mostly an invented name between common words ("Shenzhen Takivazu Trading Co.,
    Ltd."): its unlisted word weighs most of the query, so no listed name can reach the floor: it gets no candidate
    and reads no posting."""
    names = [f"{place} {_invented(k)} {field} Co., Ltd." for k, (place, field) in
             enumerate([("Shenzhen", "Trading"), ("Dubai", "Computing"), ("Singapore", "Electronics")] * 10, 7919)]
    for name in names:
        assert screener.index.candidates(tokens := key_tokens(name), matcher.POSSIBLE, matcher.BETA, 60) == [], tokens
        assert _cost(screener, name, monkeypatch)[0] == 0, name
