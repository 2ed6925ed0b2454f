"""An ECCN given without its paragraph is read as the most restrictive of the paragraphs it may be.

``3A090`` may be 3A090.a, .b or .c, which the rules treat very differently; a set naming 3A090.a does
not hold a bare 3A090.  So a line whose ECCN has paragraphs that the bundle tells apart is checked
once for each of them (and once as given), and the most restrictive answer stands.
"""
from __future__ import annotations

from ..rulebook.conditions import leaves
from ..rulebook.loader import RuleBook


class ParagraphReadings:
    def __init__(self, book: RuleBook):
        named: set[str] = set()
        for named_set in book.sets.values():
            if named_set.kind == "eccn":
                named |= {m if isinstance(m, str) else m.code for m in named_set.members}
        for rule in book.rules:
            for leaf in leaves(rule.when):
                if leaf.field != "item.eccn":
                    continue
                if isinstance(leaf.value, frozenset):
                    named |= leaf.value
                elif leaf.op in ("eq", "ne") and isinstance(leaf.value, str):
                    named.add(leaf.value)
        self._below: dict[str, list[str]] = {}  # an ECCN -> the named paragraphs below it
        for name in sorted(named):
            parts = name.split(".")
            for n in range(1, len(parts)):
                self._below.setdefault(".".join(parts[:n]), []).append(name)

    def readings(self, eccn: str) -> list[str]:
        """``eccn`` and every paragraph below it that some rule or set names; [] if there is none."""
        below = self._below.get(eccn)
        return [eccn, *below] if below else []
