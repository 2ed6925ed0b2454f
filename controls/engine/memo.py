"""What the rule network answered for a line, remembered for the next line like it.

The network is a pure function of the facts it is sent.  Every rule joins at most one line with
at most one party, so the rules a line completes, stratum by stratum (and with them what it
derives), depend only on that line's facts, the order's party facts and its day; and on the day
only through the days the network compares it with (the rule windows) and the set epoch.  An ERP sends the same items to the same
customers all day long, and re-checks its open orders when a list changes: most lines were seen
before, and are answered from here instead of by the engine.

The key is exact, never a digest: the line as the network sees it (``FactBuilder.engine_view``),
the values of the accumulated facts that derivations extend, the party facts as sent, the interval
between compared days that the day falls in, and the set epoch.  A key that differs in anything the network could see misses.

Beside the firings, the same memory keeps each line's whole outcome (``LineOutcome``: the facts derived,
the derivations, findings and conflicts, as the engine wrote them), keyed by what all of that is a
function of: the day's period (as for the firings: the explanations read the day only through its set
epoch), and the values the outcome reads (``outcome_fields``) of the line and of the order's parties
(which decide the firings).  Whether a finding's rule is enforced (a rule suspended within a period) is
judged at each check, on its own day, and so are the findings of the day itself (no rule in force, an
unconfirmed end).
Those are the fields the rules' conditions name, which are all the network and the explanations see,
and the few a line's decision and its derivations start from; a line's quantity or a party's name,
which no rule reads, does not split it.  Values are compared by value, as the explanations print them
(``plain``): a number by its exact ratio (an order's 5000 and 5000.0 alike: the models read numbers as
Decimals, and facts compute Fractions, never floats).
Findings joined with a party are not kept whole (they also read the party's screening matches): only
their place among the line's findings, and they are made again at each check.  Once a check has drawn
the line's decision from its findings, the entry also keeps that verdict (``Decisions.verdict``), which
serves a later check only if its findings are of the same rules, enforced alike.

Keys and entries are plain values (texts, numbers, None and tuples of them; decisions by their value),
kept as the bytes ``marshal`` writes of them (``_packed``), and read back at each use.  A memory of
tuples was walked by the garbage collector: a tuple is tracked from its making until a collection finds
it holds nothing tracked (nested ones, a level a pass), and a full memory replaces an evicted entry with
each new one, so the collector's count of new objects, less those freed, hardly rose while its youngest
generation filled with keys and entries (300,000 objects, a young pass of 35 ms; a middle one, 45 ms,
every few seconds of a busy service).  Bytes are never tracked.  Measured over 40,000 orders in
process: the collector's time from 722 ms to 42 ms, the longest pass from 317 ms to 15 ms.
"""
from __future__ import annotations

import datetime as dt
import marshal
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

import orjson

from ..facts.catalog import ACCUMULATED, LINE_FIELDS, NUMBER, PARTY_FIELDS
from ..rulebook.loader import LoadedRule
from .decisions import BASE_FIELDS, Verdict

Firings = tuple[tuple[str, int | None], ...]  # (rule id, party index) of one line in one stratum
Answer = tuple[Firings, ...]  # one line's firings, stratum by stratum

_SORTED = orjson.OPT_SORT_KEYS
_ACCUMULATED = tuple(sorted(ACCUMULATED))
PARTY = "party."  # the prefix of every fact of a party


class LineOutcome(NamedTuple):
    """What the engine made of one line, in immutable parts from which each check makes models of its own
    (what a rule says of itself, its citation, message or derived facts, is read from the rule then).

    Nothing here holds the line's index, which the check gives.  The memory keeps an outcome as a plain
    tuple of these fields (see the module's doc), so a reader unpacks it rather than naming its fields."""

    derived: tuple  # the facts derivations set, in the order they were first set: (field, value, field, ...)
    derivations: tuple[tuple[str, tuple[str, ...]], ...]  # (rule id, because)
    # (stratum, rule id, party index, because), in the engine's order; a finding joined with a party has
    # no because here: it also reads the party's values and screening matches, and is explained at each check
    findings: tuple[tuple[int, str, int | None, tuple[str, ...] | None], ...]
    conflicts: tuple[tuple[int, str, str], ...]  # (stratum, rule id, rule id)
    verdict: tuple | None = None  # what a check drew from the findings (a Verdict's fields), once one has


class FiringMemo:
    """Two bounded maps, of ``size`` entries each (the oldest entry goes first when full): a line's network
    key to its firings, and its outcome key to its outcome; ``size=0`` remembers nothing, so that every
    line goes to the engine."""

    def __init__(self, network: dict[str, dict], size: int = 16384):
        self.size = size
        self._bounds = sorted(_days_tested(network))  # e.g. the days on which a rule's window opens or closes
        # keys and entries as _packed writes them
        self._answers: OrderedDict[bytes | tuple, bytes | Answer] = OrderedDict()
        # outcome key -> outcome (a plain tuple); as bounded as the firings, by the same size
        self._outcomes: OrderedDict[bytes | tuple, bytes | tuple] = OrderedDict()

    def keys(self, views: list[dict], lines: list[dict], party_facts: list[dict], day: dt.date,
             epoch: dt.date) -> list[bytes | tuple] | None:
        """Each line's key: what it sends the network, and all else that decides what it gets back; None
        when nothing is remembered (the keys would cost a new line some 3 % of its check for nothing).
        Packed (``_packed``), the texts orjson wrote are copied out of its write buffer (some 4 KB however
        short the text), which a memory of 16,384 lines would otherwise keep: some 200 MB."""
        if not self.size:
            return None
        shared = (*self.period(day, epoch), orjson.dumps(party_facts, option=_SORTED))
        return [_packed((*shared, orjson.dumps(view, option=_SORTED), *map(values.get, _ACCUMULATED)))
                for view, values in zip(views, lines)]

    def period(self, day: dt.date, epoch: dt.date) -> tuple[int, int]:
        """What of ``day`` the network and the explanations can tell apart: the interval between compared days
        it falls in, and its set epoch (``first_day``)."""
        return bisect_right(self._bounds, day.toordinal()), epoch.toordinal()

    def get(self, key: bytes | tuple) -> Answer | None:
        return _unpacked(self._answers.get(key))

    def __len__(self) -> int:
        return len(self._answers)

    def put(self, key: bytes | tuple, answer: Answer) -> None:
        """Remember ``answer``; callers hold the network's lock, so that no two threads evict at once."""
        bounded_put(self._answers, self.size, key, _packed(answer))

    def outcome_keys(self, lines: list[dict], parties: list[dict], day: dt.date, epoch: dt.date,
                     fields: tuple[Fields, Fields]) -> list[bytes | tuple] | None:
        """Each line's outcome key (see the module's doc), of the values of ``fields`` (``outcome_fields``);
        None when nothing is remembered."""
        if not self.size:
            return None
        line_fields, party_fields = fields
        # flat, and the same length for as many parties: (period, parties, each party's values, the line's)
        shared = [*self.period(day, epoch), len(parties)]
        for values in parties:
            shared += _read(values, party_fields)
        return [_packed((*shared, *_read(values, line_fields))) for values in lines]

    def outcome(self, key: bytes | tuple) -> tuple | None:
        """The line's outcome, a plain tuple of LineOutcome's fields, if remembered."""
        return _unpacked(self._outcomes.get(key))

    def keep(self, key: bytes | tuple, outcome: LineOutcome) -> None:
        """Remember a line's outcome; callers hold the network's lock, as for ``put``."""
        bounded_put(self._outcomes, self.size, key, _packed(tuple(outcome)))

    def decided(self, key: bytes | tuple, outcome: tuple, verdict: Verdict) -> None:
        """Keep the verdict a check drew for the line of ``key`` with its outcome, if the line is still
        remembered; callers hold the network's lock, so that no eviction comes between."""
        if key in self._outcomes:
            self._outcomes[key] = _packed((*outcome[:-1], tuple(verdict)))


def bounded_put(memory: OrderedDict, size: int, key, value) -> None:
    """``memory[key] = value``, the oldest entry going first when ``memory`` holds ``size``; ``size=0``
    keeps nothing.  The engine's memories all bound themselves this way.

    An OrderedDict drops its oldest entry in constant time.  A dict's first key is found past every slot
    deleted before it (until the dict is next resized): some 24 µs at 16,384 entries, which a full memory
    (a service's, all day long) paid twice for every line new to it.  A memory written without a lock
    (the explanations') may be emptied by another thread between the test and the eviction."""
    if not size:
        return
    if len(memory) >= size:
        try:
            memory.popitem(last=False)
        except KeyError:  # another thread's check emptied it meanwhile
            pass
    memory[key] = value


class Fields(NamedTuple):
    """Facts an outcome key reads, by what the catalogue says each holds: one value, one number, or a list."""

    one: tuple[str, ...]
    numbers: tuple[str, ...]
    many: tuple[str, ...]


def outcome_fields(rules: Iterable[LoadedRule]) -> tuple[Fields, Fields]:
    """The facts a line's outcome reads, (of the line, of a party): every field the rules' conditions name
    (all that the network is sent and the explanations print), the accumulated facts derivations extend,
    and those a line's decision starts from.  A party's facts are all ``party.`` ones (``party_values``)
    and a line's none, so each is read only for its own."""
    named = set().union(*(rule.reads() for rule in rules), ACCUMULATED, BASE_FIELDS)
    return (_fields(sorted(f for f in named if not f.startswith(PARTY))),
            _fields(sorted(f for f in named if f.startswith(PARTY))))


def _fields(names: list[str]) -> Fields:
    """``names`` apart by what the catalogue says each fact holds (see ``Fields``)."""
    types = {**LINE_FIELDS, **PARTY_FIELDS}
    many = {name for name in names if name in types and types[name].many}
    numbers = {name for name in names if types.get(name) == NUMBER}
    return Fields(tuple(n for n in names if n not in many and n not in numbers),
                  tuple(n for n in names if n in numbers), tuple(n for n in names if n in many))


def _read(values: dict, fields: Fields) -> tuple:
    """The values of ``fields`` (None where absent), lists as tuples: a key that compares by equality.  Only
    the facts that hold a list are looked at for one (most are not given: looking at every value for
    a list was some 3 % of a check answered from memory).  Numbers are read as their exact ratios, which
    marshal writes (``_packed``)."""
    lists = tuple(map(values.get, fields.many))
    if lists.count(None) < len(lists):  # end uses, letters, the lists a party is on
        lists = tuple(tuple(v) if isinstance(v, list) else v for v in lists)
    numbers = tuple(map(values.get, fields.numbers))
    if numbers.count(None) < len(numbers):
        numbers = tuple([None if v is None else _ratio(v) for v in numbers])
    return (*map(values.get, fields.one), *numbers, *lists)


def _ratio(value):
    """A number as (numerator, denominator), lowest terms: equal numbers alike, however written (5000, 5000.0)."""
    kind = type(value)
    if kind is Decimal and value.is_finite():
        return value.as_integer_ratio()
    if kind is Fraction:
        return value.numerator, value.denominator
    return (value, 1) if kind is int else value


MARSHAL_VERSION = 2  # see _packed


def _packed(value: tuple) -> bytes | tuple:
    """A memory's key or entry as it keeps it: ``marshal``'s bytes, one object that the garbage collector
    does not track (see the module's doc).  Marshal writes a value so that it reads back equal, so equal
    bytes are equal keys: a packed key finds only its own entry.  Version 2 of its format writes equal
    values alike (later ones write a text met before in the value, or an interned one, by reference, so two
    equal keys could differ and miss).  A value marshal does not write (a Fraction a derivation set, say)
    is kept as it is, and compared as it is."""
    try:
        return marshal.dumps(value, MARSHAL_VERSION)
    except ValueError:
        return value


def _unpacked(packed: bytes | tuple | None) -> tuple | None:
    """The entry ``_packed`` kept: new tuples at each read (some 1 µs for an outcome), equal to the entry's."""
    return marshal.loads(packed) if type(packed) is bytes else packed


# the first days on which a comparison of a fact's ``day`` with ``d`` answers differently
_CHANGES = {"$gte": (0,), "$lt": (0,), "$gt": (1,), "$lte": (1,), "$neq": (0, 1), "day": (0, 1)}


def _days_tested(network: dict[str, dict]) -> set[int]:
    """The days on which a comparison of the network with a fact's ``day`` can change its answer: between
    two of them, every comparison answers alike for every day."""
    days: set[int] = set()

    def walk(expr) -> None:
        if isinstance(expr, dict):
            for op, operand in expr.items():
                if op in ("$and", "$or"):
                    for part in operand:
                        walk(part)
                elif op == "day" or (isinstance(operand, dict) and "day" in operand):
                    constant = operand if op == "day" else operand["day"]
                    days.update(constant + shift for shift in _CHANGES.get(op, (0, 1)))

    for rule in network.values():
        for pattern in rule["all"]:
            for expr in pattern.values():
                walk(expr)
    return days


def canonical(firings: Iterable[tuple[str, int | None]], order: dict[str, int]) -> Firings:
    """One line's firings of one stratum, each once, in the bundle's rule order (then by party): the
    same whether the engine or the memo answered, and whatever other lines shared the batch."""
    unique = set(firings)
    if len(unique) == 1:  # most strata a line fires in: one rule, nothing to order
        return tuple(unique)
    return tuple(sorted(unique, key=lambda f: (order[f[0]], -1 if f[1] is None else f[1])))
