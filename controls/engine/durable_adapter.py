"""The only module that imports durable-rules.

It wraps the C engine in the usage contract its known failure modes demand
(see docs: durable-rules notes): a Host without background timer threads; facts, never events;
one fact asserted at a time (batch asserts can defer actions to another thread); one fresh
session id per evaluation, deleted in ``finally``; one lock per network, because the engine's
state has no locks of its own; "message not handled" meaning "no rule matched", not an error.
"""
from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import durable.engine as _durable

from ..errors import EngineError

_names = itertools.count()


class _Host(_durable.Host):
    """A Host whose actions are looked up by name and that starts no polling threads."""

    def __init__(self, actions: dict[str, Any]):
        self._actions = actions
        super().__init__()

    def get_action(self, action_name):
        return self._actions[action_name]

    def _run(self):  # the stock Host polls every 0.2 s on two timer threads; we never need them
        pass


Firing = tuple[str, dict[str, dict]]  # (rule name, {alias: matched fact})


class Session:
    """One evaluation: facts go in one at a time, firings come out."""

    def __init__(self, host: _Host, ruleset: str, sid: str, sink: list[Firing]):
        self._host, self._ruleset, self._sid, self._sink = host, ruleset, sid, sink

    def assert_fact(self, fact: dict) -> list[Firing]:
        start = len(self._sink)
        try:
            self._host.assert_fact(self._ruleset, dict(fact, sid=self._sid))
        except _durable.MessageNotHandledException:
            pass  # no rule matched this fact: a normal outcome
        except _durable.MessageObservedException as exc:
            raise EngineError(f"fact asserted twice in one evaluation: {fact.get('id')}") from exc
        except MemoryError as exc:
            raise EngineError("rule engine session limit reached (1,024 live sessions)") from exc
        except Exception as exc:  # the C extension raises bare Exception subclasses
            raise EngineError(f"rule engine failed: {exc}") from exc
        return self._sink[start:]


class RuleNetwork:
    """A compiled durable-rules ruleset and the lock that serialises its use."""

    def __init__(self, rules: dict[str, dict]):
        self._sink: list[Firing] = []
        actions = {name: self._recorder(name) for name in rules}
        self._name = f"chipgate_{next(_names)}"
        definition = {name: dict(rule, run=name) for name, rule in rules.items()}
        self._host = _Host(actions)
        try:
            if definition:
                self._host.set_rulesets({self._name: definition})
        except Exception as exc:
            raise EngineError(f"durable-rules rejected the compiled ruleset: {exc}") from exc
        self._empty = not definition
        self._lock = threading.Lock()
        self._sids = itertools.count()

    def _recorder(self, name: str):
        sink = self._sink

        def fired(c):  # exactly one argument: durable-rules treats two as an async action
            sink.append((name, c._m))

        return fired

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._lock:
            if self._empty:
                yield _NullSession()
                return
            sid = str(next(self._sids))
            self._sink.clear()
            try:
                yield Session(self._host, self._name, sid, self._sink)
            finally:
                self._sink.clear()
                try:
                    self._host.delete_state(self._name, sid)
                except Exception:
                    pass  # no fact was asserted, so the session never existed


class _NullSession:
    def assert_fact(self, fact: dict) -> list[Firing]:
        return []
