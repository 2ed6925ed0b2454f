"""chipgate: semiconductor export-control rules, declared in YAML, checked on durable-rules.

Public API::

    from controls import Engine, Transaction
    engine = Engine.load()
    result = engine.check(Transaction.model_validate(data))
"""
from .engine import Engine
from .errors import ChipgateError, EngineError, InputError, ListDataError, Problem, RuleError
from .models import Decision, Determination, Finding, Item, LineResult, Party, ScreeningResult, Transaction

__all__ = [
    "ChipgateError",
    "Decision",
    "Determination",
    "Engine",
    "EngineError",
    "Finding",
    "InputError",
    "Item",
    "LineResult",
    "ListDataError",
    "Party",
    "Problem",
    "RuleError",
    "ScreeningResult",
    "Transaction",
]
