"""Restricted-party screening: normalise names, index the lists, score a name against them."""
from controls.screening.matcher import POSSIBLE as POSSIBLE
from controls.screening.matcher import STRONG as STRONG
from controls.screening.matcher import Match as Match
from controls.screening.matcher import Screener as Screener
from controls.screening.normalize import normalize as normalize
from controls.screening.normalize import tokens as tokens

__all__ = ["POSSIBLE", "STRONG", "Match", "Screener", "normalize", "tokens"]
