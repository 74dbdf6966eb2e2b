"""Deterministic, offline text for checking a byte-level BPE tokenizer token for token against
the Hugging Face `tokenizers` library, and for benchmarking it.

Each kind of text aims at a part of a tokenizer that is easy to get subtly wrong: the split
regex (contractions in any case and with curly apostrophes, digit runs of every script,
every Unicode whitespace), the byte-level alphabet (CJK, Arabic, Devanagari, emoji, astral
characters, controls, noncharacters), and normalization (text that is not in NFC, for
tokenizers such as Qwen's that normalize to NFC). `texts` makes documents of one kind,
`mixture` of all of them. The kinds (`KINDS`):

    code        the standard library's .py files of up to 64 KB, whole, in path order from a
                seeded start (about 18 MB with Python 3.11, then they come round again)
    prose       English-like sentences: contractions in any case and with ’, quotes, numbers,
                dates, URLs, e-mails
    json        json.dumps of random objects: escapes, Unicode, numbers; compact or indented
    cjk         Chinese, Japanese, Korean with CJK punctuation, fullwidth forms, ASCII words
    arabic      Arabic words with harakat, Arabic-Indic digits, bidi marks, Latin words
    devanagari  Hindi-like words with matras, virama, nukta; Devanagari digits, danda
    emoji       skin tones, ZWJ sequences, flags, keycaps, variation selectors, in text
    combining   stacked combining marks, zalgo, decomposed and Vietnamese text
    whitespace  runs of every Unicode whitespace (and zero-width characters) between words
    digits      runs of 1-30 digits of many scripts, other numerals, formatted numbers
    nfc         text NFC changes (decomposed letters, conjoining jamo, singletons), and not
    mixed       code points of every plane: controls, NUL, private use, unassigned,
                noncharacters, lone combining marks

Everything is generated from code and a seed, plus the Python standard library's own source
files (whole, as "code", and as the source of an English word list weighted by use), so
nothing is downloaded or committed. The same arguments give the same documents with the same
Python (its standard library and its `unicodedata` version feed the corpus).

Document sizes vary as real data does: a few empty documents and single characters, short
ones, most 200 B - 8 KB, a few up to 64 KB. Generated documents are cut to their drawn size
at a character boundary, so they can end mid-sentence, mid-JSON-object or mid-grapheme; "code"
documents are whole files.

Run from the repo root (sizes in MB of 10**6 bytes, speeds in MB/s):
    python -m fast_axolotl.bench.corpus [--mb 5] [--seed 0] [--kinds prose json ...] [--write DIR]
--write DIR writes DIR/<kind>.txt: the documents in UTF-8, separated by U+10FFFE (`SEPARATOR`,
a noncharacter that no kind generates); read them back with `text.split(SEPARATOR)`.
"""

from __future__ import annotations

import argparse
import collections
import functools
import itertools
import json
import random
import re
import string
import sysconfig
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterator, Sequence

MB = 10**6
MAX_DOCUMENT_BYTES = 64 * 1024
SEPARATOR = "\U0010fffe"


def chars(first: int, last: int) -> str:
    """The code points first..last (inclusive), as a string."""
    return "".join(map(chr, range(first, last + 1)))


def byte_table(population: Sequence[str]) -> tuple[str, ...]:
    """`population` (at most 256 strings) repeated over 256 entries, one per byte value, for
    `draws`. Unless 256 is a multiple of its size, its first entries come a little more often."""
    return tuple(population[i % len(population)] for i in range(256))


def draws(rng: random.Random, table: tuple[str, ...], k: int) -> Iterator[str]:
    """k entries of a `byte_table`, one random byte each: all in C, 2-3 times faster than
    rng.choices, for the text made a character at a time."""
    return map(table.__getitem__, rng.randbytes(k))


# --- Document sizes and assembly ----------------------------------------------------------------


def document_size(rng: random.Random) -> int:
    """A document size in UTF-8 bytes (1 means one character)."""
    r = rng.random()
    if r < 0.03:
        return 0
    if r < 0.06:
        return 1
    if r < 0.15:
        return rng.randint(2, 200)
    if r < 0.95:
        return int(200 * 40 ** rng.random())  # log-uniform 200 B - 8 KB
    return int(8192 * 8 ** rng.random())  # log-uniform 8 KB - 64 KB


def cut(text: str, size: int) -> str:
    """`text` cut to at most `size` UTF-8 bytes at a character boundary (but at least one
    character when size > 0, however many bytes it takes)."""
    data = text.encode()
    if len(data) <= size:
        return text
    return data[:size].decode("utf-8", "ignore") or text[:1]


def build_document(paragraph: Callable[[random.Random], str], rng: random.Random, size: int) -> str:
    """Paragraphs until there are `size` bytes, `cut` to that."""
    parts, length = [], 0
    while length < size:
        parts.append(paragraph(rng))
        length += len(parts[-1].encode())
    return cut("".join(parts), size)


# --- Vocabularies: lists of words as often as they occur in text, to draw from uniformly --------


def zipf(words: list[str]) -> list[str]:
    """`words` as a population to draw from uniformly, the n-th repeated len(words) // n times:
    Zipf's law, as in real text."""
    return [word for rank, word in enumerate(words, 1) for _ in range(len(words) // rank)]


def invent(name: str, make_word: Callable[[random.Random], str], size: int = 2000) -> list[str]:
    """`size` words from `make_word`, seeded by `name` alone: a script's words are the same
    for every corpus seed."""
    rng = random.Random(name)
    return [make_word(rng) for _ in range(size)]


# --- The standard library: code, and English words ----------------------------------------------

# Docstrings and comments: English written by programmers.
DOCSTRING_OR_COMMENT = re.compile(r'"""(.*?)"""|#([^\n]*)', re.DOTALL)
# Lower-case or capitalized words, with contractions and possessives (don't, it's, file's);
# all-caps names and the x of 0x1F are not words.
WORD = re.compile(r"\b[A-Za-z][a-z]*(?:'[a-z]+)?\b")


@functools.cache
def stdlib_files() -> tuple[Path, ...]:
    """The standard library's .py files of at most MAX_DOCUMENT_BYTES, sorted by path
    (site-packages is where installed packages go, not the standard library)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return tuple(
        sorted(
            path
            for path in root.rglob("*.py")
            if not {"site-packages", "dist-packages"} & set(path.relative_to(root).parts)
            and path.stat().st_size <= MAX_DOCUMENT_BYTES
        )
    )


def read_source(path: Path) -> str | None:
    """The file's text exactly (no newline translation), or None if it is not UTF-8 (a few test
    files are, on purpose)."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def stdlib_documents(rng: random.Random) -> Iterator[str]:
    """The standard library's files, whole, in path order from a seeded start, cycling."""
    files = stdlib_files()
    for path in itertools.islice(itertools.cycle(files), rng.randrange(len(files)), None):
        source = read_source(path)
        if source is not None:
            yield source


@functools.cache
def english_words() -> list[str]:
    """The words of the standard library's docstrings and comments, each once per 4 occurrences
    there (rounded up, so rare words stay): drawn from uniformly, they come about as often as in
    real text. (Not once per occurrence: a list 4 times shorter stays in the CPU cache, and
    drawing from it is 2-3 times faster.)"""
    counts: collections.Counter[str] = collections.Counter()
    for path in stdlib_files():
        source = read_source(path) or ""
        prose = " ".join(doc + comment for doc, comment in DOCSTRING_OR_COMMENT.findall(source))
        counts.update(WORD.findall(prose))
    return [word for word, count in counts.items() for _ in range(-(-count // 4))]


# --- prose --------------------------------------------------------------------------------------

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # not calendar's: those follow the locale
# Every suffix a split regex knows ('s 't 're 've 'm 'll 'd) and some it does not.
CONTRACTIONS = (
    "don't",
    "I'm",
    "we'll",
    "it's",
    "they're",
    "we've",
    "he'd",
    "can't",
    "won't",
    "you'll",
    "she's",
    "that's",
    "I'd",
    "isn't",
    "let's",
    "I've",
    "o'clock",
    "'tis",
    "y'all",
    "rock 'n' roll",
    "the '90s",
    "students'",
)
QUOTES = (
    ('"', '"'),
    ("\u201c", "\u201d"),
    ("\u2018", "\u2019"),
    ("'", "'"),
    ("\u00ab", "\u00bb"),
    ("(", ")"),
    ("[", "]"),
)
SENTENCE_ENDS = (". ", ". ", ". ", ". ", "? ", "! ", "... ", "\u2026 ", ": ", "; ", ".\n")
DOMAINS = (".com", ".org", ".io", ".co.uk", ".de", ".example")

NUMBER_FORMATS = (
    lambda rng: str(rng.randint(0, 100)),
    lambda rng: f"{rng.randint(1000, 10**10):,}",
    lambda rng: f"{rng.uniform(0, 1000):.{rng.randint(1, 4)}f}",
    lambda rng: f"{rng.randint(1, 100)}%",
    lambda rng: f"${rng.randint(1, 10**6):,}.{rng.randint(0, 99):02d}",
    lambda rng: f"{rng.randint(1, 31)}{rng.choice(('st', 'nd', 'rd', 'th'))}",
    lambda rng: f"-{rng.randint(1, 999)}",
)


def number(rng: random.Random) -> str:
    return rng.choice(NUMBER_FORMATS)(rng)


def date(rng: random.Random) -> str:
    year, month, day = rng.randint(1900, 2099), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        (
            f"{year}-{month:02d}-{day:02d}",
            f"{day} {MONTHS[month - 1]} {year}",
            f"{MONTHS[month - 1][:3]}. {day}, {year}",
            f"{month}/{day}/{year}",
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        )
    )


def host(rng: random.Random) -> str:
    return "".join(rng.choices(english_words(), k=rng.randint(1, 2))).lower() + rng.choice(DOMAINS)


def url(rng: random.Random) -> str:
    path = "/".join(rng.choices(english_words(), k=rng.randint(0, 4)))
    query = f"?q={rng.choice(english_words())}&page={rng.randint(1, 99)}" if rng.random() < 0.3 else ""
    return rng.choice(("https://", "http://", "https://www.", "www.")) + host(rng) + "/" + path + query


def email(rng: random.Random) -> str:
    first, second = rng.choices(english_words(), k=2)
    return f"{first}{rng.choice(('.', '_', '+', ''))}{second}{rng.randint(0, 99)}@{host(rng)}".lower()


def contraction(rng: random.Random) -> str:
    word = rng.choice(CONTRACTIONS)
    if rng.random() < 0.3:
        word = word.upper()  # 'S 'LL 'RE: some split regexes match contractions case-insensitively
    if rng.random() < 0.3:
        word = word.replace("'", "\u2019")  # the curly apostrophe, in no split regex's contractions
    return word


def possessive(rng: random.Random) -> str:
    return rng.choice(english_words()) + rng.choice(("'s", "'s", "\u2019s", "'"))


SPECIALS = (number, date, url, email, contraction, contraction, possessive)


def sentence(rng: random.Random) -> str:
    """Words from the English word list with now and then a number, date, URL, e-mail or
    contraction, a comma, a quoted or bracketed span; capitalized, punctuated, at times shouted."""
    words = rng.choices(english_words(), k=rng.randint(3, 24))
    for special in rng.choices(SPECIALS, k=rng.choice((0, 0, 0, 1, 1, 2))):
        words[rng.randrange(len(words))] = special(rng)
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] += ","
    if rng.random() < 0.2:
        first, last = sorted(rng.sample(range(len(words)), 2))
        opening, closing = rng.choice(QUOTES)
        words[first], words[last] = opening + words[first], words[last] + closing
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    if rng.random() < 0.04:
        text = text.upper()  # upper-case contractions and possessives: IT'S, WE'LL, FILE'S
    return text + rng.choice(SENTENCE_ENDS)


def prose_paragraph(rng: random.Random) -> str:
    return "".join(sentence(rng) for _ in range(rng.randint(1, 8))) + rng.choice(("\n\n", "\n\n", "\n"))


# --- cjk ----------------------------------------------------------------------------------------

# Common Chinese characters (hanzi, and kanji in Japanese).
HANZI = (
    "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学"
    "对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面"
    "公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部"
    "正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关"
    "并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安"
    "表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共"
)
HIRAGANA = chars(0x3041, 0x3096)
KATAKANA = chars(0x30A1, 0x30FA) + "\u30fc"  # with the prolonged sound mark
PARTICLES = ("の", "は", "が", "を", "に", "で", "と", "も", "から", "まで", "です", "ます", "した", "こと")
KOREAN_PARTICLES = ("은", "는", "이", "가", "을", "를", "에", "의", "도", "로", "에서", "입니다")
CJK_COMMAS = ("\u3001", "\uff0c", "\u3001")  # 、，
CJK_ENDS = ("\u3002", "\u3002", "\u3002", "\uff01", "\uff1f", "\u2026\u2026")  # 。！？……
CJK_BRACKETS = (("\u300c", "\u300d"), ("\u300e", "\u300f"), ("\uff08", "\uff09"), ("\u300a", "\u300b"))
FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})


def hangul_syllable(rng: random.Random) -> str:
    """A precomposed syllable: U+AC00 + (initial x 21 + vowel) x 28 + final (0: none)."""
    final = rng.randrange(1, 28) if rng.random() < 0.4 else 0
    return chr(0xAC00 + (rng.randrange(19) * 21 + rng.randrange(21)) * 28 + final)


@functools.cache
def chinese_words() -> list[str]:
    return zipf(invent("zh", lambda rng: "".join(rng.choices(HANZI, k=rng.choice((1, 2, 2, 2, 3, 4))))))


@functools.cache
def japanese_words() -> list[str]:
    def word(rng: random.Random) -> str:
        style = rng.random()
        if style < 0.5:  # kanji with kana endings
            kanji = rng.choices(HANZI, k=rng.randint(1, 2))
            return "".join(kanji + rng.choices(HIRAGANA, k=rng.randint(0, 2)))
        if style < 0.8:
            return "".join(rng.choices(KATAKANA, k=rng.randint(2, 6)))
        return "".join(rng.choices(HIRAGANA, k=rng.randint(1, 4)))

    return zipf([*PARTICLES, *invent("ja", word)])  # particles are the most frequent words


@functools.cache
def korean_words() -> list[str]:
    def word(rng: random.Random) -> str:
        stem = "".join(hangul_syllable(rng) for _ in range(rng.randint(1, 4)))
        return stem + (rng.choice(KOREAN_PARTICLES) if rng.random() < 0.4 else "")

    return zipf(invent("ko", word))


def latin_in_cjk(rng: random.Random) -> str:
    """An English word or a number, as is or in fullwidth forms, with or without spaces around."""
    text = rng.choice(english_words()) if rng.random() < 0.6 else number(rng)
    if rng.random() < 0.3:
        text = text.translate(FULLWIDTH)
    return rng.choice((text, f" {text} "))


def cjk_sentence(rng: random.Random, vocabulary: list[str], joiner: str) -> str:
    clauses = []
    for _ in range(rng.randint(1, 4)):
        words = rng.choices(vocabulary, k=rng.randint(2, 10))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = latin_in_cjk(rng)
        if rng.random() < 0.15:
            opening, closing = rng.choice(CJK_BRACKETS)
            words[-1] = opening + words[-1] + closing
        clauses.append(joiner.join(words))
    return rng.choice(CJK_COMMAS).join(clauses) + rng.choice(CJK_ENDS)


# Each language's words, and what goes between them.
CJK_LANGUAGES = ((chinese_words, ""), (japanese_words, ""), (korean_words, " "))


def cjk_paragraph(rng: random.Random) -> str:
    """Sentences of one language: Chinese and Japanese without spaces, Korean with."""
    words, joiner = rng.choice(CJK_LANGUAGES)
    sentences = (cjk_sentence(rng, words(), joiner) for _ in range(rng.randint(1, 6)))
    return joiner.join(sentences) + "\n"


# --- arabic -------------------------------------------------------------------------------------

ARABIC_LETTERS = chars(0x0621, 0x063A) + chars(0x0641, 0x064A)  # hamza..ghain, feh..yeh
HARAKAT = chars(0x064B, 0x0652)  # tanwin, fatha, damma, kasra, shadda, sukun: combining marks
TATWEEL = "\u0640"
ARABIC_INDIC_DIGITS = chars(0x0660, 0x0669)
PERSIAN_DIGITS = chars(0x06F0, 0x06F9)
RLM, LRM, ALM = "\u200f", "\u200e", "\u061c"  # bidi marks: invisible, not whitespace
ARABIC_PUNCTUATION = (" \u060c", "\u060c", "\u061b", " \u061f", "\u061f", ".", "!", "\u066a")  # ، ؛ ؟ ٪


@functools.cache
def arabic_words() -> list[str]:
    def word(rng: random.Random) -> str:
        letters = rng.choices(ARABIC_LETTERS, k=rng.randint(2, 7))
        if rng.random() < 0.25:  # vocalized, as in teaching texts and scripture
            letters = [letter + rng.choice(HARAKAT) for letter in letters]
        if rng.random() < 0.05:
            letters.insert(1, TATWEEL * rng.randint(1, 3))
        return ("\u0627\u0644" if rng.random() < 0.3 else "") + "".join(letters)  # the article al-

    return zipf(invent("ar", word))


@functools.cache
def digit_translation(digits: str) -> dict[int, int]:
    return str.maketrans("0123456789", digits)


def digits_of(number_text: str, digits: str) -> str:
    """`number_text` with its ASCII digits written with `digits` (another script's 0-9)."""
    return number_text.translate(digit_translation(digits))


def arabic_insert(rng: random.Random) -> str:
    """A number in Arabic-Indic, Persian or ASCII digits, or a Latin word wrapped in bidi marks."""
    r = rng.random()
    if r < 0.5:
        return digits_of(number(rng), rng.choice((ARABIC_INDIC_DIGITS, PERSIAN_DIGITS, "0123456789")))
    latin = " ".join(rng.choices(english_words(), k=rng.randint(1, 3)))
    return rng.choice((f"{RLM}{latin}{RLM}", f"{LRM}{latin}{LRM}", f"{ALM}{latin}", latin))


def arabic_sentence(rng: random.Random) -> str:
    words = rng.choices(arabic_words(), k=rng.randint(3, 20))
    for _ in range(rng.choice((0, 1, 1, 2))):
        words[rng.randrange(len(words))] = arabic_insert(rng)
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] += rng.choice(ARABIC_PUNCTUATION)
    return " ".join(words) + rng.choice((".", ".", "\u061f", "!", ".\u200f")) + " "


def arabic_paragraph(rng: random.Random) -> str:
    return "".join(arabic_sentence(rng) for _ in range(rng.randint(1, 6))) + "\n"


# --- devanagari ---------------------------------------------------------------------------------

CONSONANTS = chars(0x0915, 0x0939)
VOWEL_SIGNS = chars(0x093E, 0x094C)  # matras
INDEPENDENT_VOWELS = chars(0x0905, 0x0914)
VIRAMA, NUKTA = "\u094d", "\u093c"
NASALS = "\u0901\u0902\u0903"  # candrabindu, anusvara, visarga
DEVANAGARI_DIGITS = chars(0x0966, 0x096F)
DANDA, DOUBLE_DANDA = "\u0964", "\u0965"


def devanagari_syllable(rng: random.Random) -> str:
    syllable = rng.choice(CONSONANTS)
    if rng.random() < 0.08:
        syllable += NUKTA
    if rng.random() < 0.15:  # a conjunct; ZWJ / ZWNJ ask for the half or the explicit virama form
        syllable += VIRAMA + rng.choice(("", "", "", "\u200d", "\u200c")) + rng.choice(CONSONANTS)
    if rng.random() < 0.6:
        syllable += rng.choice(VOWEL_SIGNS)
    if rng.random() < 0.1:
        syllable += rng.choice(NASALS)
    return syllable


@functools.cache
def hindi_words() -> list[str]:
    def word(rng: random.Random) -> str:
        start = rng.choice(INDEPENDENT_VOWELS) if rng.random() < 0.15 else ""
        end = VIRAMA if rng.random() < 0.05 else ""
        return start + "".join(devanagari_syllable(rng) for _ in range(rng.randint(1, 4))) + end

    return zipf(invent("hi", word))


HINDI_INSERTS = (
    lambda rng: digits_of(number(rng), DEVANAGARI_DIGITS),
    number,
    lambda rng: rng.choice(english_words()),
)


def hindi_sentence(rng: random.Random) -> str:
    words = rng.choices(hindi_words(), k=rng.randint(3, 20))
    for _ in range(rng.choice((0, 1, 1, 2))):
        words[rng.randrange(len(words))] = rng.choice(HINDI_INSERTS)(rng)
    return " ".join(words) + rng.choice((f" {DANDA} ", f"{DANDA} ", "? ", f" {DOUBLE_DANDA}\n"))


def devanagari_paragraph(rng: random.Random) -> str:
    return "".join(hindi_sentence(rng) for _ in range(rng.randint(1, 6))) + "\n"


# --- emoji --------------------------------------------------------------------------------------

ZWJ, VS15, VS16 = "\u200d", "\ufe0e", "\ufe0f"  # joiner; text and emoji presentation selectors
EMOJI = chars(0x1F300, 0x1F64F) + chars(0x1F680, 0x1F6FF) + chars(0x1F900, 0x1F9FF) + chars(0x1FA70, 0x1FAFF)
PEOPLE = "👍👋👌✌🙏👶🧒👩👨🧑🏃💪🤝👏🙋👮"
SKIN_TONES = chars(0x1F3FB, 0x1F3FF)
ZWJ_SEQUENCES = (
    "👩\u200d👩\u200d👧\u200d👦",
    "👨\u200d👩\u200d👧",
    "🏳\ufe0f\u200d🌈",
    "🏳\ufe0f\u200d⚧\ufe0f",
    "🏴\u200d☠\ufe0f",
    "👨\u200d💻",
    "👩🏽\u200d🔬",
    "❤\ufe0f\u200d🔥",
    "🧑\u200d🤝\u200d🧑",
    "👁\ufe0f\u200d🗨\ufe0f",
    "🐻\u200d❄\ufe0f",
    "🧑🏿\u200d🚀",
)
# Subdivision flags: a black flag, tag letters, a cancel tag (England, Scotland, Wales).
TAG_FLAGS = tuple(
    "🏴" + "".join(chr(0xE0000 + ord(c)) for c in code) + "\U000e007f" for code in ("gbeng", "gbsct", "gbwls")
)
COUNTRIES = ("US", "GB", "FR", "DE", "JP", "CN", "IN", "BR", "KR", "UA", "NG", "EG", "MX", "VN")
TEXT_OR_EMOJI = "☺❤☀✈☎♥✔⚠↔©®™"  # characters shown as text or emoji depending on the selector


def regional_indicators(letters: str) -> str:
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in letters)


EMOJI_FORMS = (
    lambda rng: rng.choice(EMOJI),
    lambda rng: rng.choice(PEOPLE) + rng.choice(SKIN_TONES),
    lambda rng: rng.choice(ZWJ_SEQUENCES),
    lambda rng: ZWJ.join(rng.choices(EMOJI, k=rng.randint(2, 4))),  # a joined sequence no font has
    lambda rng: regional_indicators(rng.choice(COUNTRIES)),
    # Any pair, or a lone indicator: flags that do not exist, and odd runs of indicators.
    lambda rng: regional_indicators("".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 2)))),
    lambda rng: rng.choice("0123456789#*") + rng.choice((VS16 + "\u20e3", "\u20e3")),  # keycaps
    lambda rng: rng.choice(TEXT_OR_EMOJI) + rng.choice((VS15, VS16, "")),
    lambda rng: rng.choice(TAG_FLAGS),
)


@functools.cache
def emojis() -> list[str]:
    """Emoji of every form, a few very common and most rare, as in real use."""
    return zipf(invent("emoji", lambda rng: rng.choice(EMOJI_FORMS)(rng), size=20_000))


def emoji_sentence(rng: random.Random) -> str:
    """English words with emoji between them, glued to them, or in runs."""
    words = rng.choices(english_words(), k=rng.randint(1, 15))
    for _ in range(rng.randint(1, 4)):
        run = "".join(rng.choices(emojis(), k=rng.choice((1, 1, 1, 2, 3, 5))))
        position = rng.randrange(len(words) + 1)
        if position < len(words) and rng.random() < 0.3:
            words[position] += run
        else:
            words.insert(position, run)
    return " ".join(words) + rng.choice((". ", "! ", " ", "\n"))


def emoji_paragraph(rng: random.Random) -> str:
    return "".join(emoji_sentence(rng) for _ in range(rng.randint(1, 6))) + "\n"


# --- combining ----------------------------------------------------------------------------------

COMBINING_MARKS = chars(0x0300, 0x036F)
# Every block of combining marks for diacritics, for "zalgo" text.
ALL_COMBINING_MARKS = (
    COMBINING_MARKS
    + chars(0x0483, 0x0489)
    + chars(0x1AB0, 0x1ABE)
    + chars(0x1DC0, 0x1DFF)
    + chars(0x20D0, 0x20F0)
    + chars(0xFE20, 0xFE2F)
)
ACCENTED_WORDS = (
    "café",
    "naïve",
    "façade",
    "élève",
    "crème",
    "brûlée",
    "déjà",
    "garçon",
    "Noël",
    "où",
    "Zoë",
    "über",
    "Müller",
    "Größe",
    "Ärger",
    "schön",
    "Straße",
    "Übermut",
    "señor",
    "mañana",
    "añejo",
    "João",
    "São",
    "coração",
    "ação",
    "Ångström",
    "smörgåsbord",
    "Dvořák",
    "příliš",
    "žluťoučký",
    "zażółć",
    "gęślą",
    "jaźń",
    "şehir",
    "ağaç",
    "Ștefan",
    "țară",
    "Œuvre",
    "Øresund",
    "Čeština",
)
VIETNAMESE = (
    "Tiếng",
    "Việt",
    "người",
    "được",
    "những",
    "trong",
    "không",
    "một",
    "có",
    "của",
    "và",
    "là",
    "cho",
    "với",
    "này",
    "đã",
    "các",
    "để",
    "khi",
    "nhiều",
    "Hà",
    "Nội",
    "thành",
    "phố",
    "Hồ",
    "Chí",
    "Minh",
    "nước",
    "năm",
    "học",
    "sinh",
    "yêu",
    "đẹp",
    "ăn",
    "uống",
    "phở",
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "ở",
    "đây",
    "rồi",
    "nhưng",
    "ngữ",
    "chữ",
    "quốc",
    "mười",
)


MARK_OR_NOTHING = byte_table((*COMBINING_MARKS, *[""] * len(COMBINING_MARKS)))  # even odds
ANY_MARK = byte_table(ALL_COMBINING_MARKS)


def stacked(rng: random.Random, word: str, table: tuple[str, ...], count: int) -> str:
    """`word` with `count` draws from `table` after each letter."""
    marks = draws(rng, table, len(word) * count)
    # zip(word, marks, marks, ...): each letter with the next `count` marks, all in C.
    return "".join(map("".join, zip(word, *[marks] * count)))


DECOMPOSED_WORDS = tuple(unicodedata.normalize("NFD", word) for word in ACCENTED_WORDS + VIETNAMESE)


def struck_through(rng: random.Random) -> str:
    """A word struck through or underlined with marks, as typed in chat apps."""
    mark = rng.choice(("\u0336", "\u0332"))
    return mark.join(rng.choice(english_words())) + mark


COMBINING_SEGMENTS = (
    lambda rng: stacked(rng, " ".join(rng.choices(english_words(), k=3)), MARK_OR_NOTHING, 2),
    lambda rng: stacked(rng, rng.choice(english_words()), ANY_MARK, rng.randint(1, 20)),  # zalgo
    lambda rng: rng.choice(DECOMPOSED_WORDS),
    lambda rng: " ".join(rng.choices(VIETNAMESE, k=rng.randint(2, 12))),  # precomposed
    struck_through,
    # Marks with nothing to combine with: after a space, a digit, punctuation.
    lambda rng: rng.choice(" 1.-(\n") + "".join(rng.choices(COMBINING_MARKS, k=rng.randint(1, 5))),
)


def combining_paragraph(rng: random.Random) -> str:
    segments = rng.choices(COMBINING_SEGMENTS, k=rng.randint(3, 20))
    return " ".join(segment(rng) for segment in segments) + rng.choice((". ", "\n", "\n\n"))


# --- whitespace ---------------------------------------------------------------------------------

# Every character Python's str.isspace() accepts (\x1c-\x1f are not Unicode White_Space; split
# regexes disagree on them), and \r\n.
WHITESPACE = (
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\r\n",
    " ",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    "\x85",
    "\xa0",
    "\u1680",
    *chars(0x2000, 0x200A),
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
)
# Invisible but not whitespace (U+180E was, before Unicode 6.3).
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u180e")
ANY_BLANK = byte_table(WHITESPACE + ZERO_WIDTH)
INDENTS = ("", "", "    ", "        ", "\t", "\t\t", "  ", " \t")
LINE_ENDS = ("\n", "\n", "\r\n", "\n\n", "\r", " \n", "  \n", "\t\n", " \r\n")  # with trailing blanks
PUNCTUATION = tuple(".,;:!?()[]{}-'\"/#*")


def whitespace_run(rng: random.Random) -> str:
    """1-40 characters (log-uniform): one kind repeated, or any mix including zero-width ones."""
    length = int(41 ** rng.random())
    if rng.random() < 0.5:
        return rng.choice(WHITESPACE) * length
    return "".join(draws(rng, ANY_BLANK, length))


def whitespace_line(rng: random.Random) -> str:
    """Short words and punctuation between whitespace runs, indented, with trailing blanks."""
    tokens = [rng.choice(INDENTS)]
    for word in rng.choices(english_words(), k=rng.randint(1, 10)):
        tokens += (rng.choice(PUNCTUATION) if rng.random() < 0.2 else word, whitespace_run(rng))
    return "".join(tokens) + rng.choice(LINE_ENDS)


def whitespace_paragraph(rng: random.Random) -> str:
    start = whitespace_run(rng) if rng.random() < 0.3 else ""  # documents start with whitespace
    return start + "".join(whitespace_line(rng) for _ in range(rng.randint(1, 6)))


# --- digits -------------------------------------------------------------------------------------

ASCII_DIGITS = "0123456789"
SUPERSCRIPTS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
# Numerals that are \p{N} without being decimal digits: fractions, Roman numerals, circled.
OTHER_NUMERALS = "½⅓⅔¼¾⅕⅛⅞↉" + chars(0x2160, 0x2188) + chars(0x2460, 0x2473) + "\u3007"
# Other scripts' 0-9 (\p{Nd}, like ASCII's).
SCRIPT_DIGITS = (
    ARABIC_INDIC_DIGITS,
    PERSIAN_DIGITS,
    DEVANAGARI_DIGITS,
    chars(0x09E6, 0x09EF),  # Bengali
    chars(0x0E50, 0x0E59),  # Thai
    chars(0xFF10, 0xFF19),  # fullwidth
    chars(0x1D7CE, 0x1D7D7),  # mathematical bold: astral
)
DIGIT_SETS = (
    ASCII_DIGITS,
    ASCII_DIGITS,
    ASCII_DIGITS,
    *SCRIPT_DIGITS,
    SUPERSCRIPTS,
    chars(0x2080, 0x2089),
    OTHER_NUMERALS,
)  # subscripts
DIGIT_TABLES = tuple(map(byte_table, DIGIT_SETS))
ALL_DIGITS = byte_table("".join(DIGIT_SETS))

FORMATTED_NUMBERS = NUMBER_FORMATS + (
    lambda rng: f"{rng.randint(0, 9)}.{rng.randint(0, 10 ** rng.randint(1, 12))}",
    lambda rng: f"v{rng.randint(0, 20)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}",
    lambda rng: f"{rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30):.{rng.randint(0, 6)}e}",
    lambda rng: f"0x{rng.getrandbits(rng.choice((8, 16, 32, 64))):X}",
    lambda rng: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
    lambda rng: f"+{rng.randint(1, 99)} ({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    lambda rng: ".".join(str(rng.randint(0, 255)) for _ in range(4)),
    lambda rng: f"{rng.randint(1, 99)}{rng.choice(OTHER_NUMERALS)}",
    lambda rng: "x" + digits_of(str(rng.randint(2, 64)), SUPERSCRIPTS),
    lambda rng: str(rng.randint(0, 10**6)).join(rng.choices(english_words(), k=2)),  # abc123def
    lambda rng: rng.choice(("H2O", "x86_64", "utf8", "3D", "4K", "mp3", "24/7", "COVID-19")),
    date,
)


def digit_run(rng: random.Random) -> str:
    """1-30 digits of one script, or of several mixed."""
    table = rng.choice(DIGIT_TABLES) if rng.random() < 0.8 else ALL_DIGITS
    return "".join(draws(rng, table, rng.randint(1, 30)))


def formatted_number(rng: random.Random) -> str:
    text = rng.choice(FORMATTED_NUMBERS)(rng)
    if rng.random() < 0.2:
        text = digits_of(text, rng.choice(SCRIPT_DIGITS))  # the same format in another script
    return text


DIGIT_TOKENS = (
    digit_run,
    digit_run,
    formatted_number,
    formatted_number,
    lambda rng: rng.choice(english_words()),
    lambda rng: rng.choice(PUNCTUATION),
)


def digits_paragraph(rng: random.Random) -> str:
    tokens = rng.choices(DIGIT_TOKENS, k=rng.randint(3, 30))
    separators = rng.choices((" ", " ", " ", "", ", "), k=len(tokens))
    return "".join(token(rng) + separator for token, separator in zip(tokens, separators)) + "\n"


# --- nfc ----------------------------------------------------------------------------------------

# Characters NFC replaces by another single character: Angstrom, Ohm and Kelvin signs, en/em
# quad, tone marks, Greek question mark and ano teleia, CJK compatibility ideographs.
SINGLETONS = (
    "\u212b\u2126\u212a\u2000\u2001\u0340\u0341\u0343\u0374\u037e\u0387\u1fef\u1ffd"
    "\u2329\u232a" + chars(0xF900, 0xF90F) + "\U0002f800\U0002f801"
)
# Precomposed characters NFC decomposes and never recomposes (composition exclusions).
EXCLUDED = chars(0x0958, 0x095F) + "\u09dc\u09dd\u0a33\u0f43\ufb1d\ufb2a\ufb2b\ufb4e"
# Two marks in non-canonical order (the second has the lower combining class): NFC reorders.
UNORDERED_MARKS = ("\u0301\u0323", "\u0308\u0331", "\u0302\u0327", "\u0300\u0316")


LEADING_JAMO = byte_table(chars(0x1100, 0x1112))
VOWEL_JAMO = byte_table(chars(0x1161, 0x1175))
TRAILING_JAMO_OR_NOTHING = byte_table((*chars(0x11A8, 0x11C2), *[""] * 27))


def conjoining_jamo(rng: random.Random, count: int) -> str:
    """`count` syllables as leading consonant + vowel (+ trailing consonant) jamo, which NFC
    composes to precomposed syllables."""
    syllables = zip(
        draws(rng, LEADING_JAMO, count), draws(rng, VOWEL_JAMO, count), draws(rng, TRAILING_JAMO_OR_NOTHING, count)
    )
    return "".join(map("".join, syllables))


NFC_TOKENS = (
    lambda rng: " ".join(rng.choices(DECOMPOSED_WORDS, k=rng.randint(1, 6))),
    lambda rng: conjoining_jamo(rng, rng.randint(1, 6)),
    # A syllable with no final followed by a trailing jamo: NFC composes them too.
    lambda rng: chr(0xAC00 + 28 * rng.randrange(19 * 21)) + chr(0x11A8 + rng.randrange(27)),
    lambda rng: f"{rng.randint(1, 999)} {rng.choice(SINGLETONS)}",
    lambda rng: rng.choice(EXCLUDED),
    lambda rng: rng.choice("aeiouAEIOU") + rng.choice(UNORDERED_MARKS),
    lambda rng: " ".join(rng.choices(ACCENTED_WORDS + VIETNAMESE, k=rng.randint(1, 6))),  # already NFC
    lambda rng: " ".join(rng.choices(english_words(), k=rng.randint(1, 8))),
)


def nfc_paragraph(rng: random.Random) -> str:
    tokens = rng.choices(NFC_TOKENS, k=rng.randint(3, 25))
    return " ".join(token(rng) for token in tokens) + rng.choice((". ", "\n", "\n\n"))


# --- mixed --------------------------------------------------------------------------------------


def code_points(*ranges: tuple[int, int]) -> list[int]:
    return [point for first, last in ranges for point in range(first, last + 1)]


# (weight, code points). No surrogates (U+D800-DFFF cannot be encoded), no SEPARATOR; unassigned
# means unassigned in this Python's `unicodedata` (newer Unicode versions assign some).
MIXED_POOLS = (
    (30, range(0x20, 0x7F)),  # printable ASCII
    # Letters: Latin, Greek to Armenian, Hebrew, Arabic, Thai, Tibetan, Georgian, Hangul jamo,
    # Ethiopic, Cherokee, Canadian syllabics, Khmer, Mongolian, kana, CJK, Yi, Hangul.
    (
        25,
        code_points(
            (0xC0, 0x24F),
            (0x370, 0x58F),
            (0x5D0, 0x5EA),
            (0x620, 0x64A),
            (0xE01, 0xE3A),
            (0xF40, 0xF6C),
            (0x10A0, 0x10FF),
            (0x1100, 0x11FF),
            (0x1200, 0x137F),
            (0x13A0, 0x13F5),
            (0x1400, 0x167F),
            (0x1780, 0x17B3),
            (0x1820, 0x1878),
            (0x3041, 0x30FF),
            (0x4E00, 0x9FFF),
            (0xA000, 0xA48C),
            (0xAC00, 0xD7A3),
        ),
    ),
    (
        8,
        code_points((0x2010, 0x2027), (0x2030, 0x205E), (0x20A0, 0x2BFF), (0x3000, 0x303F), (0xFF01, 0xFFEF)),
    ),  # punctuation, currency, arrows, math, shapes, fullwidth
    (6, list(map(ord, ALL_COMBINING_MARKS))),  # on whatever comes before
    (5, code_points((0x00, 0x1F), (0x7F, 0x9F))),  # C0 and C1 controls, NUL included
    # Invisible format characters: soft hyphen, zero-width, bidi controls, word joiner, BOM.
    (3, code_points((0xAD, 0xAD), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0xFEFF, 0xFEFF))),
    (4, code_points((0xE000, 0xF8FF), (0xF0000, 0xF00FF), (0x10FF00, 0x10FFFD))),  # private use
    (4, [point for point in range(0x10000) if unicodedata.category(chr(point)) == "Cn"]),  # unassigned
    (
        2,
        code_points((0xFDD0, 0xFDEF))
        + [
            plane + end
            for plane in range(0, 0x110000, 0x10000)
            for end in (0xFFFE, 0xFFFF)
            if plane + end != ord(SEPARATOR)
        ],
    ),
    # Astral scripts, symbols, emoji, CJK extension B, tags and variation selectors.
    (
        8,
        code_points((0x10000, 0x1344F), (0x16800, 0x16FFF), (0x1D000, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE01EF)),
    ),
    (5, range(0x10000, 0x110000, 61)),  # all over the astral planes, mostly unassigned
)


@functools.cache
def mixed_blocks() -> tuple[list[tuple[str, ...]], list[float]]:
    """Each pool cut into blocks of 256 code points, as byte tables, and their cumulative weights
    (a pool's weight shared among its blocks)."""
    tables: list[tuple[str, ...]] = []
    weights: list[float] = []
    for weight, points in MIXED_POOLS:
        blocks = [points[start : start + 256] for start in range(0, len(points), 256)]
        tables += (byte_table([chr(point) for point in block]) for block in blocks)
        weights += [weight / len(blocks)] * len(blocks)
    return tables, list(itertools.accumulate(weights))


def mixed_paragraph(rng: random.Random) -> str:
    """Runs of 1-64 code points, each from one block of one pool; sometimes a combining mark
    first, with nothing to combine with."""
    tables, cum_weights = mixed_blocks()
    runs = [rng.choice(ALL_COMBINING_MARKS)] if rng.random() < 0.2 else []
    for table in rng.choices(tables, cum_weights=cum_weights, k=rng.randint(2, 16)):
        runs.append("".join(draws(rng, table, rng.randint(1, 64))))
    return "".join(runs)


# --- json ---------------------------------------------------------------------------------------

# Characters json.dumps escapes (quote, backslash, controls; with ensure_ascii all non-ASCII,
# astral ones as surrogate-pair escapes) and some it leaves alone (/, DEL, U+2028).
JSON_STRING_CHARACTERS = (
    '"',
    "\\",
    "/",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x1f",
    "\x7f",
    "\u2028",
    "\u2029",
    "\xe9",
    "\u20ac",
    "\U0001f600",
    "\U0010fffd",
    " ",
    "a",
    "Z",
    "0",
)

JSON_STRINGS = (
    lambda rng: " ".join(rng.choices(english_words(), k=rng.randint(1, 12))),
    lambda rng: "".join(rng.choices(JSON_STRING_CHARACTERS, k=rng.randint(1, 20))),
    lambda rng: rng.choice((cjk_paragraph, arabic_sentence, hindi_sentence, emoji_sentence))(rng),
    lambda rng: rng.choice((url, email, date, number))(rng),
    lambda rng: "",
)
JSON_NUMBERS = (
    lambda rng: rng.randint(-10, 100),
    lambda rng: rng.randint(-(2**63), 2**64),
    lambda rng: 10 ** rng.randint(19, 40),  # beyond 64 bits
    lambda rng: round(rng.uniform(-1, 1) * 10 ** rng.randint(-3, 6), rng.randint(0, 6)),
    lambda rng: rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300),  # written with an exponent
    lambda rng: rng.choice((0.0, -0.0, 0.1, 1e-7, 1e300, 5e-324, 2.5, 1.0)),
)
JSON_KEYS = (
    lambda rng: rng.choice(english_words()),
    lambda rng: "_".join(rng.choices(english_words(), k=rng.randint(2, 3))).lower(),
    lambda rng: "".join(word.capitalize() for word in rng.choices(english_words(), k=rng.randint(2, 3))),
    lambda rng: rng.choice(
        ("id", "@id", "$ref", "", "key with spaces", "\u043a\u043b\u044e\u0447", "\u540d\u524d", "\U0001f511")
    ),
)


def json_scalar(rng: random.Random) -> object:
    r = rng.random()
    if r < 0.45:
        return rng.choice(JSON_STRINGS)(rng)
    if r < 0.85:
        return rng.choice(JSON_NUMBERS)(rng)
    return rng.choice((True, False, None))


# Lists of one type, as in datasets: embeddings, token ids, tags.
JSON_LISTS = (
    lambda rng: [rng.random() for _ in range(rng.randint(1, 16))],
    lambda rng: rng.choices(range(-1, 200_000), k=rng.randint(1, 64)),
    lambda rng: rng.choices(english_words(), k=rng.randint(1, 16)),
)


def json_value(rng: random.Random, depth: int) -> object:
    """An object or list of up to 6 values (none below depth 3), a list of one type, a scalar."""
    r = rng.random()
    if depth < 3 and r < 0.25:
        return {rng.choice(JSON_KEYS)(rng): json_value(rng, depth + 1) for _ in range(rng.randint(0, 6))}
    if depth < 3 and r < 0.4:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    if r < 0.45:
        return rng.choice(JSON_LISTS)(rng)
    return json_scalar(rng)


def json_paragraph(rng: random.Random) -> str:
    """One object, compact or indented by 2 or 4, with non-ASCII escaped or not."""
    value = {rng.choice(JSON_KEYS)(rng): json_value(rng, 1) for _ in range(rng.randint(1, 6))}
    indent = rng.choice((None, None, 2, 4))
    return json.dumps(value, indent=indent, ensure_ascii=rng.random() < 0.5) + "\n"


# --- The corpus ---------------------------------------------------------------------------------

# Every kind but "code" (the standard library's files), and what its documents are made of.
PARAGRAPHS = {
    "prose": prose_paragraph,
    "json": json_paragraph,
    "cjk": cjk_paragraph,
    "arabic": arabic_paragraph,
    "devanagari": devanagari_paragraph,
    "emoji": emoji_paragraph,
    "combining": combining_paragraph,
    "whitespace": whitespace_paragraph,
    "digits": digits_paragraph,
    "nfc": nfc_paragraph,
    "mixed": mixed_paragraph,
}
KINDS = ("code", *PARAGRAPHS)


def generated_documents(paragraph: Callable[[random.Random], str], rng: random.Random) -> Iterator[str]:
    """Documents of drawn sizes, made of `paragraph`s."""
    while True:
        yield build_document(paragraph, rng, document_size(rng))


def documents(kind: str, seed: int = 0) -> Iterator[str]:
    """The endless stream of documents of `kind`: `texts` and `mixture` take from its start."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind} {seed}")  # a str seed is the same in every process, unlike hash()
    if kind == "code":
        return stdlib_documents(rng)
    return generated_documents(PARAGRAPHS[kind], rng)


def take(stream: Iterator[str], total_bytes: int) -> list[str]:
    """Documents from `stream` until their UTF-8 sizes add up to at least `total_bytes`."""
    taken, size = [], 0
    while size < total_bytes:
        taken.append(next(stream))
        size += len(taken[-1].encode())
    return taken


def texts(kind: str, total_bytes: int, seed: int = 0) -> list[str]:
    """Documents of `kind` whose UTF-8 sizes add up to `total_bytes`, or to a little more with
    the last one; the same documents for the same arguments."""
    return take(documents(kind, seed), total_bytes)


def mixture(total_bytes: int, seed: int = 0) -> list[str]:
    """Documents of every kind in turn (prose, code, json, ...), `total_bytes` or a little more
    in all; each kind's are the ones `texts(kind, ..., seed)` starts with."""
    streams = [documents(kind, seed) for kind in KINDS]
    return take(itertools.chain.from_iterable(zip(*streams)), total_bytes)


# --- Command line -------------------------------------------------------------------------------


def write(path: Path, docs: list[str]) -> None:
    """The documents in UTF-8 separated by SEPARATOR, as bytes (no newline translation)."""
    if any(SEPARATOR in doc for doc in docs):  # only a standard library file could hold it
        raise ValueError(f"a document for {path} contains the separator U+10FFFE")
    path.write_bytes(SEPARATOR.join(docs).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate each kind of text; print sizes and speed.")
    parser.add_argument("--mb", type=float, default=5.0, help="MB (10**6 bytes) per kind, default 5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS)
    parser.add_argument(
        "--write", metavar="DIR", type=Path, help="write DIR/<kind>.txt: the documents in UTF-8, separated by U+10FFFE"
    )
    args = parser.parse_args()
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
    english_words()  # reading the standard library's docstrings once is not generation time
    print(f"{'kind':<12}{'bytes':>14}{'documents':>11}{'MB/s':>8}")
    for kind in args.kinds:
        start = time.perf_counter()
        docs = texts(kind, int(args.mb * MB), args.seed)
        seconds = time.perf_counter() - start
        size = sum(len(doc.encode()) for doc in docs)
        print(f"{kind:<12}{size:>14,}{len(docs):>11,}{size / MB / seconds:>8.1f}")
        if args.write:
            write(args.write / f"{kind}.txt", docs)


if __name__ == "__main__":
    main()
