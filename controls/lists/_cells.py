"""Heuristic split of one eCFR list cell into name, aliases, former names and addresses.

The regulation prints each entry as free text ("Name, a.k.a., the following two aliases:
—A; and —B. Address; and address."). About a hundred entries use rarer forms; whatever this
module gets wrong, the verbatim cell stays in ``ListEntry.text`` as the authority.

Input is the *working* rendering of a cell: ``\\n`` for ``<br/>``, :data:`AND_SEP` for the italic
separator ``<E T="03">and</E>`` and :data:`ITALIC_START`/:data:`ITALIC_END` around other italic
runs (Huawei prints its affiliates' names in italics).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from controls.legal_forms import FORMS

from ._common import dedupe
from .countries import iso2_or_none

AND_SEP = "\x1f"
ITALIC_START, ITALIC_END = "\x02", "\x03"


@dataclass(frozen=True)
class EntityParts:
    """What one entity cell names."""

    name: str
    aliases: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    affiliates: tuple[str, ...] = ()


def split_entity(work: str) -> EntityParts:
    """Split a working-rendered entity cell into its parts."""
    flat = work.replace("\n", " ").strip()
    address_only = _ADDRESS_ONLY.match(flat)
    if address_only:  # "Address 01, Unit D, 16/F One Capital Place, ..."
        return EntityParts(name=address_only.group(1), addresses=_split_addresses(address_only.group(2)))
    reader = _CellReader()
    for line in work.split("\n"):
        reader.feed(line.strip())
    return reader.parts() or EntityParts(name=_plain(flat)[:200])


# --------------------------------------------------------------------------- line level

_AND = rf"(?:and|{AND_SEP})"
_AKA = r"(?:a\.?\s?k\.?\s?a\.?|aka\b)"
_FKA = r"(?:f\.?\s?k\.?\s?a\.?|formerly known as\b|formerly\b)"
# "..., a.k.a., the following two aliases:" closing a name line
_HEADER_AKA = re.compile(
    rf",?\s*\b{_AKA}[,.]?\s*(?:,\s*)?(?:{_AND}\s+)?(?:the\s+)?[^:]*?(?:following|alias)[^:]*:?\s*$", re.IGNORECASE)
_FOLLOWING_ALIASES = re.compile(r"^(?:the\s+)?(?:following\s+)?(?:\w+\s+)?(?:following\s+)?alias(?:es)?\s*:\s*",
                                re.IGNORECASE)
_SUBORDINATES_FOLLOW = re.compile(rf"[;,]?\s*(?:{_AND}\s+)?the following \w+ subordinate entities:?\s*$")
_GROUP_HEADING = re.compile(r"^The following (.+?) entities:?$")
_SUB_LABEL = re.compile(r"^(?:.*\bsubordinate institution:|Subordinate [Ii]nstitui?tion:?)\s*", re.IGNORECASE)
_ADDRESS_INTRO = re.compile(
    r"^(?:Addresses for [^:]+:|The following addresses apply[^:]*:|Address(?:es)?:)\s*", re.IGNORECASE)
_ADDRESS_ONLY = re.compile(r"^(Address \d+)\s*[,:]?\s*(.*)$", re.DOTALL)
_WS = re.compile(r"\s+")
_ALIAS_DASH = re.compile(r"(?<![^\W\d_])—|—(?![^\W\d_])")
_DIGIT = re.compile(r"\d")
_SPACE_COMMA = re.compile(r"\s+,")
_LEADING_AND = re.compile(r"^(?:and|or)\s+")
_TRAILING_AND = re.compile(r"(?:[;,:]\s*|\s+)(?:and|or)[.;,]?$")
_OPEN_END = re.compile(rf"(?:;|\band|{AND_SEP})\W*$")
_ITALIC_NAME = re.compile(rf"^{ITALIC_START}([^{ITALIC_END}]*){ITALIC_END}\s*,?\s*(.*)$", re.DOTALL)
# "; and" / ", or" ending an alias line; a word ending in "or"/"and" ("Techpribor") is no separator
_TRAILING_SEPARATOR = re.compile(rf"(?:[;,]?\s*{AND_SEP}|(?:[;,]\s*|\s+|^)(?:and|or))[.;,]?\s*$")
_INLINE_AKA = re.compile(rf"(?:[,;]\s*|\s+)({_AKA}|{_FKA})[,:]?\s+", re.IGNORECASE)
_PARENTHETICAL_AKA = re.compile(rf"\(\s*({_AKA}|{_FKA})[,:]?\s*([^()]*(?:\([^()]*\)[^()]*)*)\)", re.IGNORECASE)
_TO_INCLUDE = re.compile(r",?\s+(?:and\s+)?to include the following\b.*$", re.IGNORECASE)


@dataclass
class _Party:
    name: str
    aliases: list[str] = field(default_factory=list)
    former: list[str] = field(default_factory=list)


class _CellReader:
    """Reads a cell line by line: a name line, em-dash alias lines, then address lines.

    Cells that list sub-entities ("Subordinate institution", Huawei's italic affiliates, PAEC's
    dashed subordinate entities) start a new party per sub-entity; those become ``affiliates``.
    """

    def __init__(self) -> None:
        self.parties: list[_Party] = []
        self.addresses: list[str] = []
        self.expecting_name = True
        self.alias_open = False  # the last alias line ended in ";" or "and": the list goes on
        self.wants_aliases = False  # the current name announced "a.k.a., the following N aliases:"
        self.sub_entities_follow = False  # dashed lines now name sub-entities, not aliases

    def feed(self, line: str) -> None:
        plain = _plain(line)
        dashed = line.startswith("—")
        if not line:
            self.alias_open = False
        elif dashed and (self.expecting_name or (not self.wants_aliases and (
                self.sub_entities_follow or _HEADER_AKA.search(plain)))):
            self._name(line.lstrip("—"))
        elif dashed:
            # a dash between two letters joins a name ("ODK—Ufim Motor—Building"); others start an alias
            for alias_line in (a for a in _ALIAS_DASH.split(line) if a.strip()):
                self._alias(alias_line)
        elif intro := _ADDRESS_INTRO.match(line):
            self._address(line[intro.end():])
        elif (label := _SUB_LABEL.match(plain)) or line.startswith(ITALIC_START):
            rest = plain[label.end():] if label else line
            self.expecting_name = not rest
            if rest:
                self._name(rest)
        elif re.fullmatch(r"Affiliated entities:?", plain, re.IGNORECASE):
            self.expecting_name = True
        elif (heading := _GROUP_HEADING.match(plain)) and not self.parties:
            self.parties.append(_Party(heading.group(1)))  # "The following Department of Atomic Energy entities:"
            self.expecting_name = False
            self.sub_entities_follow = True
        elif self.expecting_name or not self.parties:
            self._name(line)
        elif self.alias_open:
            self._alias(line)
        else:
            self._address(line)

    def parts(self) -> EntityParts | None:
        if not self.parties:
            return None
        primary = self.parties[0]
        affiliates = [n for party in self.parties[1:] for n in (party.name, *party.aliases, *party.former)]
        return EntityParts(
            name=primary.name,
            aliases=dedupe(primary.aliases),
            former_names=dedupe(primary.former),
            addresses=dedupe(self.addresses),
            affiliates=dedupe(affiliates),
        )

    def _name(self, line: str) -> None:
        self.wants_aliases = bool(_HEADER_AKA.search(_plain(line)))
        names = _parse_names(line, head=True)
        self.parties.append(_Party(names.name, list(names.aliases), list(names.former)))
        self.expecting_name = False
        self.alias_open = False
        self._address(names.rest)

    def _alias(self, line: str) -> None:
        line, subordinates = _SUBORDINATES_FOLLOW.subn("", line)
        names = _parse_names(line, head=bool(subordinates))
        self.sub_entities_follow = self.sub_entities_follow or bool(subordinates)
        if not self.parties:
            self.parties.append(_Party(""))
        self.parties[-1].aliases.extend(n for n in (names.name, *names.aliases) if n)
        self.parties[-1].former.extend(names.former)
        self.alias_open = bool(_OPEN_END.search(line)) and not names.rest
        self.wants_aliases = self.alias_open
        self._address(names.rest)

    def _address(self, text: str) -> None:
        if text:
            self.addresses.extend(_split_addresses(text))
            self.alias_open = self.wants_aliases = False


# --------------------------------------------------------------------------- names in a line

@dataclass(frozen=True)
class _Names:
    name: str
    aliases: tuple[str, ...] = ()
    former: tuple[str, ...] = ()
    rest: str = ""  # what follows the names: address text


def _parse_names(line: str, *, head: bool) -> _Names:
    """Names printed on one line, and the address text after them.

    ``head`` lines (an entry's first line) always continue with an address after the name; on
    alias lines an address is split off only when the remainder reads like one.
    """
    italic = _ITALIC_NAME.match(line)
    if italic:  # Huawei's affiliates: the italic run is exactly the name
        return _Names(_clean_name(italic.group(1)), rest=_HEADER_AKA.sub("", _unitalic(italic.group(2))))
    text = _unitalic(line)
    rest = ""
    if not head:
        text = _TRAILING_SEPARATOR.sub("", text)
        include = _TO_INCLUDE.search(text)  # Huawei: "Huawei Technology, and to include the following ..."
        if include:
            after = re.search(r"subordinate\.\s*(.*)$", include.group(0))
            rest = after.group(1) if after else ""
            text = text[:include.start()]
    aliases: list[str] = []
    former: list[str] = []
    text = _take_parentheticals(text, aliases, former)

    header = _HEADER_AKA.search(text)
    if header:
        name, more = _cut_at_comma(text[:header.start()], lenient=True)  # "Tactical Missile Corporation, X"
        return _names(name, aliases, former, _join(more, rest))
    pieces = _INLINE_AKA.split(text)
    if len(pieces) == 1:
        name, more = _name_and_address(text, always=head)
        return _names(name, aliases, former, _join(more, rest))
    for index in range(1, len(pieces), 2):
        kind, value = pieces[index], pieces[index + 1]
        listed = _FOLLOWING_ALIASES.match(value)
        items = _split_list(value[listed.end():]) if listed else [value]
        if index + 2 >= len(pieces):  # the last names on the line run into the address
            items, more = _names_then_address(items, always=head)
            rest = _join(more, rest)
        (former if re.match(_FKA, kind, re.IGNORECASE) else aliases).extend(items)
    return _names(pieces[0], aliases, former, rest)


def _names(name: str, aliases: list[str], former: list[str], rest: str) -> _Names:
    return _Names(
        name=_clean_name(name),
        aliases=tuple(a for a in (_clean_name(a) for a in aliases) if a),
        former=tuple(f for f in (_clean_name(f) for f in former) if f),
        rest=rest,
    )


def _take_parenthetical(match: re.Match[str], aliases: list[str], former: list[str]) -> str:
    kind, body = match.group(1), match.group(2)
    items = re.split(rf";\s*(?:{_AND}\s+)?|,\s*{_AKA}\s*|,\s*{_FKA}\s*|\s+{_AND}\s+{_AKA}\s*", body)
    target = former if re.match(_FKA, kind, re.IGNORECASE) else aliases
    target.extend(re.sub(rf"^(?:{_AKA}|{_FKA})[,:]?\s*", "", i, flags=re.IGNORECASE) for i in items if i)
    return ""


def _take_parentheticals(text: str, aliases: list[str], former: list[str]) -> str:
    """Move ``(a.k.a. X; a.k.a. Y)`` and ``(f.k.a. Z)`` groups out of the text."""
    if "(" in text:
        text = _PARENTHETICAL_AKA.sub(lambda m: _take_parenthetical(m, aliases, former), text)
    return _SPACE_COMMA.sub(",", _WS.sub(" ", text)).strip()


def _split_list(text: str) -> list[str]:
    """``A; and B`` / ``-A; -B`` (an inline alias list) -> items."""
    items = re.split(rf"\s*;\s*(?:{_AND}\s+)?", text)
    return [re.sub(r"^[-—]\s*", "", i).strip() for i in items if i.strip()]


def _names_then_address(items: list[str], *, always: bool) -> tuple[list[str], str]:
    """``["A", "B. 21 Tower Road", "111 Kingkaew Road"]`` -> (["A", "B"], "21 Tower Road; 111 ...")."""
    for index, item in enumerate(items):
        name, more = _name_and_address(item, always=always and index == len(items) - 1)
        if more:
            return items[:index] + [name], _join(more, *items[index + 1:])
    return items, ""


def _join(*texts: str) -> str:
    return "; ".join(t for t in texts if t)


# --------------------------------------------------------------------------- name vs address

def _spelling_pattern(spelling: str) -> str:
    """A legal form's spelling as a regex: dots and commas optional, spacing free ("S.A." also reads
    "SA" and "S. A", "Co., Ltd." also "Co Ltd", "FZ-LLC" also "FZ LLC"); a closing dot is the caller's."""
    pattern = ""
    for word, gap in re.findall(r"([^.,\s-]+)([.,\s-]*)", spelling.rstrip(".")):
        pattern += re.escape(word)
        if gap:
            pattern += (r"\.?" if "." in gap else "") + (",?" if "," in gap else "") + ("-?" if "-" in gap else "")
            pattern += r"\s*"
    return pattern


# Legal forms (controls/legal_forms.py), longest first so the whole form is read.
_LEGAL = "(?:" + "|".join(
    _spelling_pattern(s)
    for s in sorted({s for f in FORMS if f.only != "screening" for s in f.spellings}, key=lambda s: (-len(s), s))
) + ")"
# A comma-separated segment that is only legal forms continues the name: "..., Co., Ltd."
_LEGAL_SEGMENT = re.compile(rf"^(?:{_LEGAL}\.?[ ,]*)+(?:\([^)]*\))?\.?$", re.IGNORECASE)
# ... or starts with one and then the address begins: "Ltd. No. C22, Yu An Rd."
_LEGAL_PREFIX = re.compile(rf"^(?:{_LEGAL}\.|Limited|Ltd|LLC|Inc)(?=\s+\S)", re.IGNORECASE)
# A segment naming a unit of the organisation before it: "..., Institute of Basic Medicine".
_ORG_UNIT = re.compile(
    r"\b(?:Institute|Institution|Academy|Research|Laborator(?:y|ies)|Department|Bureau|Cent(?:er|re) (?:for|of)|"
    r"Branch|School|Faculty|College|University|Division|Design|Office of|Ministry)\b", re.IGNORECASE)
# Words that make a name an organisation's (so what follows a comma may be its unit or subsidiary).
_ORG_WORD = re.compile(
    r"\b(?:Corporation|Corp|Company|Concern|Group|Holding|Academy|Sciences|Institute|University|Technologies|"
    r"Ministry|Center|Centre|Industries|Industry|Enterprise|Bureau|Agency|Organi[sz]ation|Commission|"
    r"Association|Plant|Factory|Works|Shipyard|Engineering|Laboratory|Foundation|Authority|Design|Repair)\b")
_STREET_WORD = (
    r"Road|Rd|Street|St|Avenue|Ave|Lane|(?<!Machine )(?<!Machine-)Building|Bldg|Floor|Room|Rm|Zone|Park|Box|"
    r"Block|Tower|Plaza|Square|Highway|Suite|Unit|Flat|Campus|Prospekt|Ulitsa|ul|Shosse|Pereulok|Naberezhnaya|"
    r"Mah|Cad|Sok|Sk|Airport")
_PLACE_WORD = (
    r"District|Province|City|Town|Village|Area|County|Region|Oblast|Krai|Emirates|Iran|Russia|China|Hong Kong|"
    r"Moscow|Beijing|Shanghai|Tehran|Dubai|Karachi")
_ADDRESS_WORD = re.compile(rf"\b(?:{_STREET_WORD}|{_PLACE_WORD})\b", re.IGNORECASE)
_STREET = re.compile(rf"\b(?:{_STREET_WORD})\b", re.IGNORECASE)

# Where a name can end without a comma: "Co. Ltd. 300 South Oak Way", "Mosi Oveici. Mehrabad Airport",
# "A. Leib Ltd.; HA'Assif 19", "MEO GMBH P.O Box 501168".
_NAME_END = re.compile(
    r"(?P<sentence>(?:(?<=[a-z]{3})|(?<=Ltd)|(?<=Inc)|(?<=LLC)|(?<=[A-Z]{2}))\.\s*(?=[A-Z0-9]))"
    r"|(?<=[A-Za-z'’”)])\.\s+(?=\d)"
    r"|;\s*"
    r"|\s+(?=P\.?\s?O\.?\s+Box\b)")


def _name_and_address(text: str, *, always: bool) -> tuple[str, str]:
    """Split ``Name, Co., Ltd., 1 Road, City`` into the name and the address text after it.

    The name ends at the first comma not followed by a legal form (Co., Ltd., JSC ...) or an
    organisational unit (", Institute of ..."), or earlier at a period, semicolon or "P.O. Box"
    when what follows reads like an address. With ``always`` false the comma rule also needs an
    address-like remainder (alias lines usually carry no address).
    """
    name, rest = _cut_at_comma(text)
    end = len(name) if rest and (always or _looks_like_address(rest)) else len(text)
    for match in _NAME_END.finditer(text, 0, end):
        remainder = text[match.end():]
        if text[:match.start()].endswith((" No", "P.O", " Box")) or _LEGAL_PREFIX.match(remainder):
            continue
        # after a sentence-like period the very next words must read as an address ("PT. Kuantum ...")
        probe = remainder.split(",", 1)[0] if match.group("sentence") else remainder
        if _looks_like_address(probe) and _depth(text[:match.start()]) == 0:
            return text[:match.start() + (1 if text[match.start()] == "." else 0)].strip(), remainder.strip()
    if end == len(text):
        return text.strip(), ""
    return name, rest


def _cut_at_comma(text: str, *, lenient: bool = False) -> tuple[str, str]:
    """Cut at the first comma that starts the address.

    Strict (name followed by address): a segment continues the name when it is a legal form, or,
    after an organisation's name, a unit or subsidiary of it ("Tactical Missile Corporation, NPO
    Electromechanics"). Lenient (text known to hold no address, before "a.k.a."): every segment
    continues unless it reads as an address.
    """
    segments = _split_top_level(text, ",")
    first = segments[0].strip()
    organisation = bool(_ORG_WORD.search(first) or re.search(rf"\b{_LEGAL}\b", first))
    name_parts = [first]
    index = 1
    while index < len(segments):
        segment = segments[index].strip()
        if not (_continues_name(segment, organisation) or (lenient and segment and not _addressy(segment))):
            break
        name_parts.append(segment)
        index += 1
    rest = ",".join(segments[index:]).strip()
    if rest and (prefix := _LEGAL_PREFIX.match(rest)):  # "..., Ltd. No. C22, Yu An Rd."
        name_parts.append(prefix.group(0))
        rest = rest[prefix.end():].strip()
    return ", ".join(name_parts), rest


def _continues_name(segment: str, after_organisation: bool) -> bool:
    if _LEGAL_SEGMENT.match(segment):
        return True
    legal_prefix = re.match(r"^(?:Limited|Ltd)\.?\s+(?=\()", segment)  # "Limited (CSSC) 7th Research Academy"
    body = segment[legal_prefix.end():] if legal_prefix else segment
    if _ADDRESS_WORD.search(body) or len(body) > 90:
        return False
    unbracketed = re.sub(r"\([^)]*\)", "", body)
    numbers_ok = all(re.fullmatch(r"\d+(?:st|nd|rd|th)?", n) for n in re.findall(r"\w*\d\w*", unbracketed))
    if _ORG_UNIT.search(body) and numbers_ok:
        return True
    leading_number_ok = numbers_ok or bool(re.match(r"\d+\s+[A-Z]", unbracketed)) and not _DIGIT.search(
        unbracketed.split(None, 1)[1] if " " in unbracketed else "")
    return after_organisation and leading_number_ok and bool(
        _ORG_WORD.search(body) or re.match(rf"(?:{_LEGAL})\b", body))


def _addressy(segment: str) -> bool:
    """A segment that is clearly part of an address (street word, postcode, country)."""
    if _STREET.search(segment) or re.search(r"\d{4,}|\d+[/-]\d+", segment):
        return True
    return iso2_or_none(re.sub(r"[().;]", "", segment).strip()) is not None


def _looks_like_address(text: str) -> bool:
    if _DIGIT.search(text) or _ADDRESS_WORD.search(text):
        return True
    last = re.sub(r"[().;]", "", text.rsplit(",", 1)[-1]).strip()
    return bool(last) and iso2_or_none(last) is not None


def _depth(text: str) -> int:
    return text.count("(") - text.count(")")


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on a separator outside parentheses."""
    if "(" not in text:
        return text.split(separator)
    parts, current, depth = [], [], 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


# --------------------------------------------------------------------------- clean-up

# Words printed with a closing period that is theirs, not the sentence's: legal forms ("Ltd.", "Kft.")
# and other abbreviations.
_ABBREVIATED_FORMS = sorted({s[:-1] for f in FORMS if f.only != "screening" for s in f.spellings
                             if re.fullmatch(r"[^\W\d_]+\.", s)}, key=lambda w: (-len(w), w))
_ABBREVIATION_END = re.compile(
    rf"(?:\b(?:{'|'.join(_ABBREVIATED_FORMS)}|Jr|Sr|St|Mfg|Intl|Int|Tech|Eng|Ind|Dev|Nat|"
    r"Equip|Man|Mach|Mat|Std|Imp|Exp|Dist|No|Bros)|\b[A-Z]|\.[A-Za-z]{1,3})\.$")


def _unitalic(work: str) -> str:
    """Working text without italic markers; the italic ``and`` separator stays."""
    return _WS.sub(" ", work.replace(ITALIC_START, "").replace(ITALIC_END, "")).strip()


def _plain(work: str) -> str:
    """Working text without any marker (the italic ``and`` reads as a plain ``and``)."""
    return _unitalic(work).replace(AND_SEP, "and")


def _clean_name(name: str) -> str:
    """Trim separators and a sentence-final period, keeping the period of ``Ltd.`` and ``S.A.``."""
    name = _plain(name)
    name = _LEADING_AND.sub("", name)
    name = _TRAILING_AND.sub("", name)
    name = name.strip(" ,;:")
    if name.endswith(".") and not _ABBREVIATION_END.search(name):
        name = name[:-1].rstrip(" ,;")
    return name


def _split_addresses(work: str) -> tuple[str, ...]:
    """Addresses are separated by ``;``, ``; and`` or the italic ``and`` (never a plain ``and``)."""
    text = re.sub(r"\(\s*See (?:also )?(?:alternate )?address[^)]*\)\.?", "", work, flags=re.IGNORECASE)
    addresses = []
    for piece in re.split(rf"\s*;\s*(?:and\b[,;]?\s*)?|\s*[;,]?\s*{AND_SEP}[;,]?\s*", text):
        piece = _plain(piece).strip(" ,;:")
        if piece.endswith(".") and not _ABBREVIATION_END.search(piece):
            piece = piece[:-1].rstrip()
        if piece and not re.fullmatch(r"(?:and|or)", piece, re.IGNORECASE):
            addresses.append(piece)
    return tuple(addresses)
