"""The only module that imports durable-rules.

We drive durable-rules' C engine (``durable_rules_engine``) directly, the way its own
``durable.engine.Ruleset`` does, but without its Python ``Host``: that layer starts two polling
timer threads, re-serialises the session state after every firing (about 85 % of the time per
check) and can hand an action to another thread.  The usage contract follows the engine's known
failure modes (see the durable-rules notes): facts, never events; one fact asserted at a time;
one fresh session id per evaluation, deleted in ``finally``; one lock per network, because the
engine's state has no locks of its own; "not handled" means "no rule matched", not an error.
"""
from __future__ import annotations

import itertools
import json
import threading
from contextlib import contextmanager
from typing import Iterator

import durable_rules_engine as _engine

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
    """One evaluation: facts go in one at a time, the rules they complete come out."""

    def __init__(self, handle: int, sid: str):
        self._handle, self._sid = handle, sid

    def assert_fact(self, fact: dict) -> list[Firing]:
        payload = json.dumps(dict(fact, sid=self._sid), ensure_ascii=False)
        code, state = _engine_call("assert a fact", _engine.assert_fact, self._handle, payload)
        if code == _ALREADY_OBSERVED:
            raise EngineError(f"fact asserted twice in one evaluation: {fact.get('id')}")
        if code != _HANDLED:
            return []
        firings: list[Firing] = []
        pending = _engine_call("start an action", _engine.start_action_for_state, self._handle, state)
        message = pending[1] if pending else None
        while message:
            for name, matched in json.loads(message).items():
                firings.append((name, matched))
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

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._lock:
            if self._handle is None:
                yield _NullSession()
                return
            sid = str(next(self._sids))
            try:
                yield Session(self._handle, sid)
            finally:
                try:
                    _engine.delete_state(self._handle, sid)
                except Exception:
                    pass  # no fact reached the engine, so the session never existed


class _NullSession:
    def assert_fact(self, fact: dict) -> list[Firing]:
        return []
