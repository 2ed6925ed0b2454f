"""Turn a trade name into comparable tokens, so spelling conventions do not decide a match.

Lists and customers write the same party differently: case, accents, punctuation, legal
forms ("Co., Ltd." / "Company Limited" / "OOO"), abbreviations ("Tech", "Intl") and, for
Chinese parties, Han characters instead of the pinyin/English used on U.S. lists.
``tokens`` removes those differences; it does not reorder tokens (the matcher ignores order).
"""
from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from importlib.metadata import version as _version
from urllib.parse import unquote

from rapidfuzz import process
from rapidfuzz.distance import OSA

from controls.legal_forms import FORMS, LINKS
from controls.screening.logic import MIN_NAME_CHARS, SPELLING_MIN_LEN, SPELLING_MIN_SIMILARITY

__all__ = ["normalize", "tokens", "key_tokens", "screenable", "named_words", "run_piece", "word_breaks", "STOPWORDS",
           "PLACES", "PLACEHOLDERS"]

# -- English / transliterated side ---------------------------------------------------------

# Legal forms ("Co., Ltd.", "OOO", "S.A. de C.V."): derived from controls.legal_forms below, once
# the words are read as ``tokens`` reads them.

# Abbreviations and inflections that name the same thing; the right side is canonical.
_WORD_MAP = {
    "ltd": "limited", "co": "company", "corp": "corporation", "inc": "incorporated",
    "tech": "technology", "techs": "technology", "technologies": "technology",
    "technol": "technology", "techn": "technology",
    "intl": "international", "internat": "international",
    "elec": "electronics", "elecs": "electronics", "electronic": "electronics",
    "mfg": "manufacturing", "mfr": "manufacturing",
    "univ": "university",
    "inst": "institute", "institutes": "institute", "instit": "institute",
    "grp": "group",
    "comms": "communications", "communication": "communications",
    "natl": "national",
    "sci": "science", "sciences": "science", "scientific": "science",
    "engg": "engineering", "industries": "industry",
    "hldg": "holdings", "hldgs": "holdings", "holding": "holdings",
    "svc": "service", "svcs": "service", "services": "service",
    "sys": "system", "systems": "system",
    "equip": "equipment", "equipments": "equipment",
    "devices": "device", "solutions": "solution", "networks": "network",
    "materials": "material", "products": "product", "instruments": "instrument",
    "lab": "laboratory", "labs": "laboratory", "laboratories": "laboratory",
    "ctr": "center", "centre": "center", "centres": "center", "centers": "center",
    "dept": "department", "assn": "association", "assoc": "association",
    "mgmt": "management", "bros": "brothers",
    "chinese": "china", "prc": "china", "defence": "defense",
    "semiconductors": "semiconductor", "conductors": "conductor",
    # as ERP master data abbreviates them to fit a field
    "ind": "industry", "inds": "industry", "indus": "industry", "bkg": "banking", "semicond": "semiconductor",
    "manuf": "manufacturing", "mfrs": "manufacturing", "mfrg": "manufacturing", "eqpt": "equipment",
    "corpn": "corporation",
}

# Word pairs that are also written as one word ("Micro Electronics" / "Microelectronics"),
# after _WORD_MAP ("Hi-Tech" -> "hi technology" -> "hitech").
_COMPOUND_PAIRS = {
    ("micro", "electronics"): "microelectronics",
    ("opto", "electronics"): "optoelectronics",
    ("semi", "conductor"): "semiconductor",
    ("hi", "technology"): "hitech",
    ("high", "technology"): "hitech",
    ("aero", "space"): "aerospace",
    ("photo", "electric"): "photoelectric",
    ("super", "computing"): "supercomputing",
    ("super", "computer"): "supercomputer",
    ("nano", "technology"): "nanotechnology",
    ("bio", "technology"): "biotechnology",
}

# Words that carry no identity; kept by ``tokens`` (so "&" -> "and" is visible) but not keys.
# "al"/"el" are the Arabic article, "de"/"del"/"la" Spanish or French particles.
STOPWORDS = frozenset({"the", "of", "and", "for", "in", "at", "on", "de", "del", "la", "al", "el"})

# What a form says when it has no name to give.
PLACEHOLDERS = frozenset({
    "n a", "na", "none", "nil", "null", "unknown", "tbd", "tba", "tbc", "not applicable",
    "not available", "not known", "to be advised", "to be confirmed", "to be determined",
    "x", "xx", "xxx", "test", "various", "same", "same as above", "see above",
})

# -- Chinese side ------------------------------------------------------------------------

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Legal forms in Chinese; dropped like their English counterparts.
_SCREENED_FORMS = tuple(f for f in FORMS if f.only != "lists")
_HAN_LEGAL = tuple(s for f in _SCREENED_FORMS for s in f.spellings if _HAN_RUN.fullmatch(s))

# Words of Chinese company names with the English used on U.S. lists. Kept to what listed
# names need: the pinyin of these would never meet the English on the list.
_HAN_GLOSSARY = {
    "技术": "technology", "科技": "technology", "电子": "electronics", "半导体": "semiconductor",
    "微电子": "microelectronics", "集成电路": "integrated circuit", "国际": "international",
    "研究所": "research institute", "研究院": "research institute", "研究中心": "research center",
    "大学": "university", "学院": "institute", "科学院": "academy sciences",
    "通信": "communications", "通讯": "communications", "信息": "information",
    "控股": "holdings", "贸易": "trading", "进出口": "import export", "集团": "group",
    "工程": "engineering", "物理": "physics", "航空航天": "aeronautics astronautics",
    "航空": "aviation", "航天": "aerospace", "科工": "science industry", "工业": "industry",
    "产业": "industry", "设备": "equipment", "装备": "equipment", "仪器": "instrument",
    "材料": "material", "光电": "optoelectronics", "光学": "optics", "精密": "precision",
    "机械": "machinery", "制造": "manufacturing", "计算机": "computer", "计算": "computing",
    "软件": "software", "网络": "network", "系统": "system", "数据": "data", "智能": "intelligent",
    "人工智能": "artificial intelligence", "超级计算": "supercomputing", "超算": "supercomputing",
    "中心": "center", "设计": "design", "高性能": "high performance", "存储": "memory",
    "科学": "science", "应用": "application", "发展": "development", "投资": "investment",
    "实业": "industrial", "物流": "logistics", "供应链": "supply chain", "能源": "energy",
    "化工": "chemical", "雷达": "radar", "导航": "navigation", "卫星": "satellite",
    "芯片": "chip", "激光": "laser", "红外": "infrared", "量子": "quantum", "创新": "innovation",
    "国防": "national defense", "国家": "national", "实验室": "laboratory",
    "重点实验室": "key laboratory", "分公司": "branch", "香港": "hong kong", "中国": "china", "数字": "digital",
    "中华": "china", "长江": "yangtze",
}

# Brands whose English name on U.S. lists is not the pinyin of their Chinese name (海康威视 is
# "Hikvision", not "haikangweishi"), or whose pinyin would split wrongly. Longest match wins, so a
# brand inside a longer name (杭州海康威视数字技术) still reads as the brand.
_HAN_BRANDS = {
    "海康威视": "hikvision", "大华": "dahua", "华为": "huawei", "海思": "hisilicon",
    "中芯国际集成电路制造": "semiconductor manufacturing international",
    "中芯国际": "semiconductor manufacturing international", "中芯": "smic",
    "长鑫存储": "changxin memory", "长鑫": "changxin", "长江存储": "yangtze memory",
    "大疆": "dji", "商汤": "sensetime", "旷视": "megvii", "科大讯飞": "iflytek", "讯飞": "iflytek",
    "浪潮": "inspur", "中科曙光": "sugon", "曙光": "sugon", "寒武纪": "cambricon", "依图": "yitu",
    "云从": "cloudwalk", "美亚柏科": "meiya pico", "飞腾": "phytium", "申威": "sunway",
    "海光": "hygon", "壁仞": "biren", "摩尔线程": "moore threads", "北方华创": "naura",
    "拓荆": "piotech", "龙芯": "loongson", "上海微电子装备": "shanghai micro electronics equipment",
    "中兴": "zte", "新凯来": "sicarrier", "中国电子科技集团": "china electronics technology group",
}

# Places, so a run like 深圳市大疆 splits into "shenzhen" + "dajiang"; some differ from
# plain pinyin (哈尔滨 Harbin, 陕西 Shaanxi, 西安 Xi'an).
_HAN_PLACES = {
    "北京": "beijing", "上海": "shanghai", "深圳": "shenzhen", "天津": "tianjin",
    "重庆": "chongqing", "广州": "guangzhou", "杭州": "hangzhou", "南京": "nanjing",
    "武汉": "wuhan", "成都": "chengdu", "西安": "xian", "无锡": "wuxi", "苏州": "suzhou",
    "哈尔滨": "harbin", "长沙": "changsha", "合肥": "hefei", "珠海": "zhuhai", "东莞": "dongguan",
    "厦门": "xiamen", "青岛": "qingdao", "大连": "dalian", "沈阳": "shenyang", "郑州": "zhengzhou",
    "济南": "jinan", "福州": "fuzhou", "宁波": "ningbo", "绵阳": "mianyang", "澳门": "macau",
    "台湾": "taiwan", "江苏": "jiangsu", "浙江": "zhejiang", "广东": "guangdong",
    "四川": "sichuan", "湖北": "hubei", "湖南": "hunan", "山东": "shandong", "河南": "henan",
    "河北": "hebei", "陕西": "shaanxi", "山西": "shanxi", "辽宁": "liaoning", "吉林": "jilin",
    "黑龙江": "heilongjiang", "安徽": "anhui", "福建": "fujian", "江西": "jiangxi",
    "云南": "yunnan", "贵州": "guizhou", "甘肃": "gansu", "海南": "hainan", "新疆": "xinjiang",
    "内蒙古": "inner mongolia", "广西": "guangxi",
}

# Words naming a place of registration: they qualify a company name more than identify it.
# Cities that often qualify a listed company's name in orders ("... Dubai", "... Moscow office").
_WORLD_PLACES = {"moscow", "tehran", "dubai", "karachi", "lahore", "istanbul", "minsk", "singapore",
                 "tashkent", "almaty", "yerevan", "tbilisi", "baku", "kuala", "lumpur", "bangkok"}
PLACES = frozenset(w for en in _HAN_PLACES.values() for w in en.split()) | {"china", "hong", "kong"} | _WORLD_PLACES
# Words naming a unit of an organisation, not the organisation: "Huawei Technologies Shenzhen Branch".
QUALIFIERS = frozenset({"branch", "office", "representative", "rep", "subsidiary", "division", "headquarters",
                        "hq", "liaison"})

_HAN_TERMS: dict[str, str] = {t: "" for t in _HAN_LEGAL}
_HAN_TERMS.update(_HAN_GLOSSARY)
_HAN_TERMS.update(_HAN_BRANDS)
for _place, _en in _HAN_PLACES.items():
    _HAN_TERMS[_place] = _en
    _HAN_TERMS[_place + "市"] = _en  # city suffix
    _HAN_TERMS[_place + "省"] = _en  # province suffix
_HAN_MAXLEN = max(map(len, _HAN_TERMS))

_DOTTED = re.compile(r"(?<![^\W\d_])((?:[^\W\d_]\.){2,})")  # "s.a." "l.l.c." "a.k.a."
_APOSTROPHES = re.compile(r"['’‘`´ʼʻʽʹʾʿ]")  # with the modifier letters written as apostrophes ("Saʿid")
_NON_WORD = re.compile(r"[\W_]+")
_LETTERS = re.compile(r"[^\W\d_]+")
# Latin letters NFKD does not decompose.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                                 "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "TH",
                                 "ð": "d", "Ð": "D", "ŋ": "ng", "Ŋ": "NG", "ĸ": "k"})


def _pinyin_word(run: str) -> list[str]:
    """Pinyin of a run of Han characters with no glossary term: one word per 2-4 characters."""
    from pypinyin import lazy_pinyin  # imported on first Han input only

    syllables = lazy_pinyin(run)
    if len(syllables) <= 4:
        return ["".join(syllables)]
    return ["".join(syllables[i : i + 2]) for i in range(0, len(syllables), 2)]


# Traditional characters are read as simplified (華為技術 as 华为技术), the glossary's: the converter's name
# and version, which decide how (part of the matcher's digest, as this module's other tables are)
_TRADITIONAL = ("opencc-python-reimplemented t2s", _version("opencc-python-reimplemented"))


@lru_cache(maxsize=1)
def _to_simplified():
    from opencc import OpenCC  # loaded on first Han input only

    return OpenCC("t2s").convert


def _han_to_words(run: str) -> str:
    """Longest-match glossary terms, of the run in simplified characters; what is left between them becomes
    pinyin words."""
    run = _to_simplified()(run)
    out: list[str] = []
    pending: list[str] = []
    i = 0
    while i < len(run):
        for size in range(min(_HAN_MAXLEN, len(run) - i), 0, -1):
            term = _HAN_TERMS.get(run[i : i + size])
            if term is not None:
                break
        else:
            pending.append(run[i])
            i += 1
            continue
        if pending:
            out.extend(_pinyin_word("".join(pending)))
            pending.clear()
        if term:
            out.append(term)
        i += size
    if pending:
        out.extend(_pinyin_word("".join(pending)))
    return " " + " ".join(out) + " "


@lru_cache(maxsize=1)
def _look_alikes() -> dict[int, str]:
    """Letters of other scripts drawn like a Latin letter (Cyrillic "а", Greek "Η"), to that letter.

    From the Unicode TR39 confusables data (confusable-homoglyphs). TR39's prototype of a look-alike
    is not always the letter a reader sees (Greek "Ι" -> "l", since I, l and 1 share a prototype):
    among the prototype's ASCII letters, the one of the same case is taken.
    """
    from confusable_homoglyphs.confusables import confusables_data  # loaded on first non-ASCII input

    table: dict[int, str] = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha() or unicodedata.normalize("NFKD", char) != char:
            continue
        prototypes = [g["c"] for g in glyphs]
        letters = [c for p in prototypes for c in [p, *(g["c"] for g in confusables_data.get(p, ()))]
                   if len(c) == 1 and c.isascii() and c.isalpha()]
        if letters:
            table[ord(char)] = next((c for c in letters if c.isupper() == char.isupper()), letters[0])
    return table


# Cyrillic to Latin, BGN/PCGN for Russian (the romanisation U.S. lists use: "Obshchestvo",
# "Tekhnologii"), without its diacritics and apostrophes; Ukrainian and Belarusian letters added.
_CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "w",
})
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CYRILLIC_LOWER = frozenset(chr(c) for c in _CYRILLIC)


def transliterate(text: str) -> str:
    """Cyrillic letters of ``text`` in Latin (BGN/PCGN), lower case; other characters as they are."""
    return text.lower().translate(_CYRILLIC)


def _written_in_cyrillic(text: str) -> bool:
    """No Latin letter, and a Cyrillic letter that looks like none ("б", "ж", "я"): a name written in
    Cyrillic. A text of look-alike letters only ("ЅАТСО") is a Latin name in disguise."""
    if _LATIN_LETTER.search(text):
        return False
    look_alikes = _look_alikes()
    return any(c.lower() in _CYRILLIC_LOWER and ord(c) not in look_alikes for c in text)


def _latin(word: str) -> bool:
    return word.isascii() or all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in word)


def _fold_look_alikes(word: re.Match) -> str:
    """A word that reads as Latin once its look-alike letters are folded ("Huаwеi" with Cyrillic а, е)
    is that Latin word; a word of real Cyrillic ("Ростех") is transliterated, Greek stays as written."""
    text = word.group()
    if text.isascii():
        return text
    folded = text.translate(_look_alikes())
    return folded if _latin(folded) else transliterate(text)


# Characters drawn as nothing: Unicode's format characters (category Cf: zero-width space and joiners,
# soft hyphen, word joiner, bidi controls, Mongolian vowel separator, tags) and the Hangul fillers,
# which are letters (Lo) that show no glyph.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def _invisible(c: str) -> bool:
    return c in _FILLERS or unicodedata.category(c) == "Cf"


_OVERRIDDEN = re.compile("\u202e([^\u202c\u2069]*)")  # right-to-left override, to its pop or the end


def as_displayed(name: str) -> str | None:
    """``name`` in the order a screen shows it, where it has a right-to-left override (U+202E): the characters
    that follow one, to its pop (U+202C, U+2069) or the end, are shown reversed ("\u202eiewauH" shows
    "Huawei"); None when it has none.  The matcher reads both."""
    if "\u202e" not in name:
        return None
    return _OVERRIDDEN.sub(lambda m: m.group(1)[::-1], name)


def word_breaks(name: str) -> str | None:
    """``name`` with each run of invisible characters read as a space ("Huawei\u200bTechnologies" ->
    "Huawei Technologies"), or None when it has none. ``tokens`` reads them as nothing, as inside a word
    ("Hua\u00adwei"); between words a reader sees a break, so the matcher tries both readings. Between two
    Han characters, which no space separates, they stay nothing."""
    if name.isascii() or not any(map(_invisible, name)):
        return None
    out: list[str] = []
    for i, c in enumerate(name):
        if not _invisible(c):
            out.append(c)
        elif out and out[-1] != " ":
            after = next((d for d in name[i + 1 :] if not _invisible(d)), "")
            if not (_HAN_RUN.match(out[-1]) and _HAN_RUN.match(after)):
                out.append(" ")
    return "".join(out)


# a Latin letter drawn another way, which NFKD leaves as it is: "LATIN LETTER SMALL CAPITAL H" (ʜ), "NEGATIVE
# SQUARED LATIN CAPITAL LETTER H" (🅷), "REGIONAL INDICATOR SYMBOL LETTER H" (🇭), "LATIN SMALL LETTER TURNED A"
# (ɐ), "LATIN SMALL LETTER A WITH STROKE" (ⱥ): the letter its Unicode name ends with
_DRAWN_LATIN = re.compile(r"(?:[A-Z]+ )*(?:LATIN|REGIONAL INDICATOR SYMBOL) (?:[A-Z]+ )*LETTER (?:[A-Z]+ )*([A-Z])(?: WITH .*)?")


@lru_cache(maxsize=4096)
def _latin_letter(char: str) -> str:
    """``char``, or the Latin letter it draws (see _DRAWN_LATIN) in lower case; a letter that case folding
    writes in ASCII is left to it (ß: ss)."""
    if char.casefold().isascii():
        return char
    found = _DRAWN_LATIN.fullmatch(unicodedata.name(char, ""))
    return found.group(1).lower() if found else char


def _plain(text: str) -> str:
    """Casefolded text without diacritics, invisible characters or look-alike letters, Han converted,
    every punctuation mark a space."""
    if not text.isascii():
        text = "".join(c for c in text if not _invisible(c))  # zero-width, bidi controls, fillers
        text = _HAN_RUN.sub(lambda m: _han_to_words(m.group()), text)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = "".join(_latin_letter(c) if not c.isascii() else c for c in text)
        if _written_in_cyrillic(text):  # "ООО Техприбор": transliterated, not read as look-alikes
            text = transliterate(text)
        text = _LETTERS.sub(_fold_look_alikes, text).translate(_UNDECOMPOSABLE)
    text = text.casefold().replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    text = _DOTTED.sub(lambda m: m.group().replace(".", "") + " ", text)
    return _NON_WORD.sub(" ", text)


def _drop_legal(words: list[str] | tuple[str, ...], keep: int = 1) -> list[str]:
    """``words`` without legal forms. Forms that are also syllables of names ("SA", "AG", "Ao") are dropped
    only at the edges, and only while ``keep`` words are left: ``tokens`` keeps a name that is only such a
    form as its word, ``screenable`` (``keep`` 0) asks whether anything but legal forms is left."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase in _PHRASES_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            if words[i] not in _LEGAL_WORDS:
                out.append(words[i])
            i += 1
    # legal words that are also syllables, only at the start or in the legal run at the end;
    # "de" / "y" join them ("S.A. de C.V.", "y Cia.")
    dropped = False
    while len(out) > keep and (out[0] in _LEGAL_SHORT or (dropped and out[0] in _LEGAL_LINKS)):
        out.pop(0)
        dropped = True
    dropped = False
    while len(out) > keep:
        last = out[-1]
        if last in _LEGAL_SHORT or (dropped and last in _LEGAL_LINKS):
            out.pop()
            dropped = True
            continue
        tail = None
        if last in _TAIL_ENDS:  # "S A", "S A DE C V", "S DE RL"
            tail = next(
                (t for t in _LEGAL_TAILS if len(out) - len(t) >= keep and tuple(out[-len(t) :]) == t), None
            )
        if tail is None:
            break
        del out[-len(tail) :]
        dropped = True
    return out


def _merge_compounds(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if out and (out[-1], w) in _COMPOUND_PAIRS:
            out[-1] = _COMPOUND_PAIRS[(out[-1], w)]
        else:
            out.append(w)
    return out


def _legal_tables() -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """The words, edge words, phrases and tails of the legal forms in controls.legal_forms, as
    ``_drop_legal`` meets them: read like a name ("S.A." -> "sa", "Co., Ltd." -> "company limited")."""
    words: set[str] = set()
    edge: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    tails: set[tuple[str, ...]] = set()
    for form in _SCREENED_FORMS:
        for spelling in form.spellings:
            if _HAN_RUN.fullmatch(spelling):
                continue  # _HAN_LEGAL
            ascii_spelling = "".join(c for c in unicodedata.normalize("NFKD", spelling) if not unicodedata.combining(c))
            plain = _plain(ascii_spelling).split()
            read = tuple(_merge_compounds([_WORD_MAP.get(w, w) for w in plain]))
            if form.where == "anywhere":
                (words.add(read[0]) if len(read) == 1 else phrases.add(read))
            elif form.where == "edge" and len(read) == 1:
                edge.add(read[0])
            else:  # "end", or a run of words: dropped only where it ends a name
                tails.add(read)
            if form.spelt_out and all(len(w) <= 4 for w in plain if w not in LINKS):
                tails.add(tuple(c for w in plain for c in ((w,) if w in LINKS else w)))
    longest_first = lambda runs: tuple(sorted(runs, key=lambda r: (-len(r), r)))  # noqa: E731
    return frozenset(words), frozenset(edge), longest_first(phrases), longest_first(tails)


# Dropped anywhere; dropped only as the first word or in the run of legal forms that ends a name
# (also syllables: "Sa'dallah", "Zao Wou-Ki", "Ao"); runs dropped whole anywhere; runs dropped
# only at the end (single letters are initials anywhere else: "S A DE C V").
_LEGAL_WORDS, _LEGAL_SHORT, _LEGAL_PHRASES, _LEGAL_TAILS = _legal_tables()
_LEGAL_LINKS = frozenset(LINKS)
_PHRASES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in _LEGAL_PHRASES:
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)
_TAIL_ENDS = frozenset(t[-1] for t in _LEGAL_TAILS)

_KNOWN_WORDS = tuple(sorted(
    w for w in {*_LEGAL_WORDS, *_WORD_MAP, *_WORD_MAP.values()} if len(w) >= SPELLING_MIN_LEN - 1))
_KNOWN = frozenset(_KNOWN_WORDS)


_SPELLING_CUTOFF = SPELLING_MIN_SIMILARITY - 0.01  # rapidfuzz drops a score at its cutoff


@lru_cache(maxsize=64)
def _known_near(length: int) -> tuple[str, ...]:
    """The known words a word of ``length`` letters may misspell: those whose length alone does not keep
    its similarity below the look-up's cutoff (1 - length difference / longer length), in _KNOWN_WORDS'
    order, so that of two equally close words the same one is found."""
    return tuple(w for w in _KNOWN_WORDS
                 if 1 - abs(len(w) - length) / max(len(w), length) >= _SPELLING_CUTOFF - 1e-9)


@lru_cache(maxsize=65536)
def _spelled(word: str) -> str:
    """``word``, or the known word it misspells by one or two letters."""
    if len(word) < SPELLING_MIN_LEN or word in _KNOWN or not word.isalpha():
        return word
    best = process.extractOne(word, _known_near(len(word)), scorer=OSA.normalized_similarity,
                              score_cutoff=_SPELLING_CUTOFF)
    return best[0] if best and best[1] >= SPELLING_MIN_SIMILARITY else word


def _read(text: str) -> list[str]:
    """The canonical words of ``text``, each read on its own (compounds and legal forms span words)."""
    return [_WORD_MAP.get(w, w) for w in map(_spelled, _plain(text).split())]


@lru_cache(maxsize=65536)
def _read_part(part: str) -> tuple[str, ...]:
    """``_read`` of one space-separated part of an ASCII name: names share most of their parts ("Shenzhen",
    "Co.,"), and such a part reads the same alone (nothing ``_plain`` does to ASCII text crosses a space)."""
    return tuple(_read(part))


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|((?:%[0-9A-Fa-f]{2})+)|&(#?\w{1,8});")
# a markup tag (<b>, </span>, <br/>, <font color=red>) or comment: a name in angle brackets ("<Huawei>") is no tag
_TAG = re.compile(r"<!--.{0,200}?-->|</?(?:a|b|i|u|s|em|strong|span|div|p|br|hr|font|small|big|sub|sup|td|tr|th|"
                  r"table|tbody|li|ul|ol|h[1-6]|html|body|head|title|mark|code|pre|center|nobr|wbr)"
                  r"(?:\s[^<>]{0,200})?/?>", re.IGNORECASE | re.DOTALL)
_ESCAPED_TIMES = 3  # escapes of escapes read: "%2520" is "%20" is " "
_IN_WORD_SIGN = re.compile(r"(?<=[^\W\d_])([@$])(?=[^\W\d_])")  # "Hu@wei", "Sam$ung": letters written as signs


def _unescaped(name: str) -> str:
    """``name`` with what an integration's escaping left in it read as the characters it stands for
    (``\\u0077``, ``\\x77``, ``%20``, ``&#32;``, ``&amp;``; escaped twice too: ``%2520``, ``&amp;nbsp;``), markup
    tags as nothing (``<b>Huawei</b>``, ``Hua<span>wei</span>``), and ``@`` and ``$`` between letters as a and s:
    no company is named so, and each hid a listed name from the words screening compares
    ("Huawei%20Technologies" was one word).  A surrogate escape stands for nothing."""
    for _ in range(_ESCAPED_TIMES):
        read = _TAG.sub("", name) if "<" in name else name
        if "\\" in read or "%" in read or "&" in read:
            read = _ESCAPE.sub(_character, read)
        if read == name:
            break
        name = read
    if "@" in name or "$" in name:
        name = _IN_WORD_SIGN.sub(lambda m: "a" if m.group(1) == "@" else "s", name)
    return name


def _character(found: re.Match) -> str:
    if found.group(3):  # URL escapes: the bytes of UTF-8 text
        return unquote(found.group(3), errors="replace")
    hexadecimal = found.group(1) or found.group(2)
    if hexadecimal is not None:
        code = int(hexadecimal, 16)
        return "" if 0xD800 <= code <= 0xDFFF else chr(code)
    return html.unescape(found.group())  # an entity it does not know stays as written


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Canonical words of ``name``, and those that are not a legal form (``tokens`` and ``screenable``
    both read them: a new name is read once). Other scripts are read in the whole name (whether it is
    written in Cyrillic or in look-alike letters is decided on all of it)."""
    name = _unescaped(name)
    words = [w for part in name.split() for w in _read_part(part)] if name.isascii() else _read(name)
    words = _merge_compounds(words)
    return tuple(words), tuple(_drop_legal(words))


def legal_words() -> frozenset[str]:
    """Every word of a legal form, of one word ("ltd") or of several ("joint", "stock")."""
    return frozenset({*_LEGAL_WORDS, *_LEGAL_SHORT, *(w for p in (*_LEGAL_PHRASES, *_LEGAL_TAILS) for w in p)})


def known_words() -> frozenset[str]:
    """The words reading a name knows besides the lists': those it maps to another (abbreviations, inflections:
    "technologies") and the words of legal forms ("liability"), each as ``run_piece`` reads it."""
    return frozenset({*_WORD_MAP, *_WORD_MAP.values(), *legal_words()})


def all_words(name: str) -> tuple[str, ...]:
    """Canonical words of ``name``, legal forms kept."""
    return _words(name)[0]


def tokens(name: str) -> tuple[str, ...]:
    """Canonical words of ``name``, legal forms dropped; a name that is only a legal form keeps it."""
    words, kept = _words(name)
    return tuple(kept or words)


def screenable(name: str) -> bool:
    """Whether ``name`` has a word that can identify a party: not only punctuation, invisible
    characters, legal forms ("Co., Ltd.", "AG", "S.A.", "ЗАО", "株式会社", "주식회사"), a placeholder ("N/A",
    "TBD", "Unknown") or a single letter or digit ("A"); and no word in a script screening does not read
    (``unread_scripts``), which no listed name could match."""
    named = named_words(name)
    return len("".join(named)) >= MIN_NAME_CHARS and " ".join(named) not in PLACEHOLDERS \
        and not unread_scripts(name)


def unread_scripts(name: str) -> tuple[str, ...]:
    """The scripts of the letters of ``name`` that screening cannot compare with the lists ("HANGUL",
    "ARABIC", "KATAKANA"): the lists spell names in Latin letters, and screening reads Latin letters (with
    their diacritics and look-alikes), Cyrillic (transliterated) and Han characters (in pinyin and English)
    only.  A word of another script is left as written and matches nothing, so a name holding one would be
    cleared for the words screening could read (or for none)."""
    return tuple(sorted({unicodedata.name(c, "UNKNOWN").split()[0] for word in _words(name)[1] if not word.isascii()
                         for c in word if not c.isascii()} - {"LATIN", "MODIFIER"}))


def named_words(name: str) -> tuple[str, ...]:
    """The canonical words of ``name`` that may name a party: legal forms (wherever they stand, when nothing
    else is left) and stopwords left out; () for a name that is only those."""
    return tuple(w for w in _drop_legal(_words(name)[1], keep=0) if w not in STOPWORDS)


def edge_form(piece: str) -> bool:
    """Whether ``piece`` is a legal form that is also a syllable of names ("sa", "ag", "sab"), which a name drops
    only at its edge."""
    word = _WORD_MAP.get(piece, piece)
    return word in _LEGAL_SHORT and word not in _LEGAL_WORDS


def run_piece(piece: str) -> str:
    """How ``tokens`` reads ``piece`` of a word, a listed word run together with others ("technologies" ->
    "technology"), or "" for a legal form ("ltd") or a stopword ("of")."""
    word = _WORD_MAP.get(piece, piece)
    return "" if word in _LEGAL_WORDS or word in _LEGAL_SHORT or word in STOPWORDS else word


def key_tokens(name: str) -> tuple[str, ...]:
    """``tokens`` without stopwords: the words that identify a party."""
    toks = tokens(name)
    key = tuple(t for t in toks if t not in STOPWORDS)
    return key or toks


def normalize(name: str) -> str:
    """``name`` as one canonical string; equal strings mean the same spelling of a name."""
    return " ".join(tokens(name))
