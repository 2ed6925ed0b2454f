"""The only module that imports durable-rules.

We drive durable-rules' C engine (``durable_rules_engine``) directly, the way its own
``durable.engine.Ruleset`` does, but without its Python ``Host``: that layer starts two polling
timer threads, re-serialises the session state after every firing (about 85 % of the time per
check) and can hand an action to another thread.  The usage contract follows the engine's known
failure modes (see the durable-rules notes): facts, never events; one lock per network, because
the engine's state has no locks of its own; "not handled" means "no rule matched", not an error.
The facts of one stratum go in as one batch, drained of every action they trigger before the
next batch.

Each network keeps one session, and each check retracts the facts it asserted.  Creating a
session costs more than the rest of a check (it grows with the rules), and deleting one is a
trap: ``delete_state`` frees the session's action context, which the engine sets only when an
action starts and never initialises, so deleting a session in which no rule fired frees stray
pointers (``free(): invalid pointer``, exit 134).  Sessions are therefore never deleted; a check
that fails part-way abandons its session, and the next check starts a fresh one.  A fork while
another thread holds a network's lock would leave the child waiting for a thread it does not
have, with half a check in the session: the child gets fresh locks and fresh sessions.
"""
from __future__ import annotations

import itertools
import json
import os
import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

import durable_rules_engine as _engine
import orjson

from ..errors import EngineError

_names = itertools.count()

_HANDLED, _NOT_HANDLED, _ALREADY_OBSERVED, _NO_ACTION = 0, 1, 2, 3

Firing = tuple[str, dict[str, dict]]  # (rule name, {alias: matched fact})



def _engine_call(what: str, function, *args):
    try:
        return function(*args)
    except MemoryError as exc:
        raise EngineError(f"rule engine out of sessions or memory while trying to {what}") from exc
    except Exception as exc:  # the C extension raises its own bare error type
        raise EngineError(f"rule engine failed to {what}: {exc}") from exc


class Session:
    """A network's session: each check's facts go in stratum by stratum, the rules they complete
    come out, and the facts are retracted when the check ends."""

    def __init__(self, handle: int, sid: str):
        self._handle, self._sid = handle, sid
        self.asserted: list[str] = []  # this check's batches as sent (JSON arrays), retracted when it ends

    def retract_all(self) -> None:
        """Take back every fact this check asserted: the session is then as the next check needs it."""
        if not self.asserted:
            return
        payload = "[" + ",".join(batch[1:-1] for batch in self.asserted) + "]"
        self.asserted = []
        code, state = _engine_call("retract facts", _engine.retract_facts, self._handle, payload)
        if code in (_HANDLED, _NOT_HANDLED) and _engine_call("start an action", _engine.start_action_for_state,
                                                               self._handle, state):
            raise EngineError("retracting a check's facts fired a rule")

    def assert_facts(self, facts: list[dict]) -> list[Firing]:
        """Assert facts in one call and run every rule they complete.

        The C engine reports "not handled" for the whole batch when any one fact matched nothing,
        but still returns the session and queues the actions of the others; the stock Python layer
        raised at that point and left those actions to a timer thread.  We drain them here.
        """
        if not facts:
            return []
        for fact in facts:  # the facts are the caller's to give away: no copies
            fact["sid"] = self._sid
        payload = orjson.dumps(facts).decode()
        self.asserted.append(payload)
        code, state = _engine_call("assert facts", _engine.assert_facts, self._handle, payload)
        if code == _ALREADY_OBSERVED:
            raise EngineError("a fact was asserted twice in one evaluation")
        if code not in (_HANDLED, _NOT_HANDLED):
            return []
        firings: list[Firing] = []
        pending = _engine_call("start an action", _engine.start_action_for_state, self._handle, state)
        message = pending[1] if pending else None
        while message:
            firings += orjson.loads(message).items()
            message = _engine_call("complete an action", _engine.complete_and_start_action, self._handle, state)
        return firings


class RuleNetwork:
    """A compiled ruleset in the C engine and the lock that serialises its use."""

    def __init__(self, rules: dict[str, dict]):
        self._name = f"chipgate_{next(_names)}"
        self._handle = None
        if rules:
            definition = json.dumps(rules, ensure_ascii=False)
            self._handle = _engine_call("create the ruleset", _engine.create_ruleset, self._name, definition)
        self._lock = threading.Lock()
        self._sids = itertools.count()
        self._kept: Session | None = None  # the session every check reuses, its facts retracted after each
        _networks.add(self)

    @property
    def lock(self) -> threading.Lock:
        """The lock that serialises the network's use; the engine's memory of lines is written under it too."""
        return self._lock

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The network's one session, empty: creating a session costs more than a whole check
        (it grows with the rules), so each check retracts its facts instead of deleting the session.
        A check that fails part-way leaves the session behind and the next one starts a fresh one."""
        with self._lock:
            if self._handle is None:
                yield _NullSession()
                return
            if self._kept is None:
                self._kept = Session(self._handle, str(next(self._sids)))
            session, clean = self._kept, False
            try:
                yield session
                session.retract_all()
                clean = True
            finally:
                if not clean:
                    self._kept = None

    def _after_fork(self) -> None:
        # the thread that held the lock in the parent does not exist in the child; its session may
        # hold half a check's facts, so it is abandoned (a fresh sid follows); the ruleset itself is
        # intact (C calls hold the GIL)
        self._lock = threading.Lock()
        self._kept = None


_networks: "weakref.WeakSet[RuleNetwork]" = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [network._after_fork() for network in list(_networks)])


class _NullSession:
    def assert_facts(self, facts: list[dict]) -> list[Firing]:
        return []
