"""Spell checking in Spanish and English with real Hunspell dictionaries.

Words are looked up in the Hunspell dictionaries the system provides
(Debian/Ubuntu packages ``hunspell-es`` and ``hunspell-en-us``; macOS Homebrew
``hunspell`` dictionaries work too), read with the pure-Python ``spylls``. When
no Hunspell dictionary is found, the frequency dictionaries that ship inside
``pyspellchecker`` are used instead (weaker for Spanish: they lack many plurals
and verb forms, so expect more false alarms).

Dictionaries load lazily, once per language and process (1-2 s for Hunspell),
and are shared between threads. Suggestions come from words one edit away
(plus common Spanish sound-alike swaps such as b/v, c/s/z, g/j, y/ll and a
missing h, and splitting a run-together pair like "porfavor"), each checked
against the dictionary and ranked: a fix of accents only first, then
sound-alike fixes, then by word frequency.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from cs_console.i18n import _

__all__ = [
    "DEFAULT_DICTIONARY_DIRS",
    "Misspelling",
    "SpellChecker",
    "find_misspellings",
    "get_checker",
]

DEFAULT_DICTIONARY_DIRS: tuple[str, ...] = (
    "/usr/share/hunspell",
    "/usr/share/myspell",
    "/usr/share/myspell/dicts",
    "/usr/local/share/hunspell",
    "/opt/homebrew/share/hunspell",
    "~/Library/Spelling",
)
"""Folders searched for ``<lang>_<REGION>.dic``/``.aff`` pairs, in order.

The environment variable ``CS_CONSOLE_HUNSPELL_DIRS`` (``os.pathsep``-separated)
is searched before these."""

_PREFERRED = {"es": ("es_ES", "es_MX", "es"), "en": ("en_US", "en_GB", "en")}
_ALPHABET = {
    "es": "abcdefghijklmnopqrstuvwxyzáéíóúüñ",
    "en": "abcdefghijklmnopqrstuvwxyz'",
}


# Everyday words of online shops and support that general dictionaries lack.
def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SUPPLEMENT: dict[str, frozenset[str]] = {
    "es": _wordset(
        """
        email emails e-mail online ok okey web webs app apps link links clic click
        paypal bizum visa mastercard amex whatsapp sms pdf checkout newsletter
        prepagada prepagado prepagadas prepagados reembolsable reembolsables
        packaging streaming smartphone tablet wifi bluetooth usb youtube instagram
        facebook tiktok google amazon gmail hotmail outlook jpg png
        """
    ),
    "en": _wordset(
        """
        ok okay email emails e-mail online app apps paypal whatsapp sms pdf checkout
        newsletter wifi bluetooth usb youtube instagram facebook tiktok google amazon
        gmail hotmail outlook jpg png
        """
    ),
}
# Spanish enclitic pronouns: "contáctanos" = "contacta" + "nos".
_ENCLITICS = (
    "selas",
    "selos",
    "sela",
    "selo",
    "nos",
    "les",
    "las",
    "los",
    "me",
    "te",
    "se",
    "le",
    "la",
    "lo",
    "os",
)
# Common Spanish sound-alike confusions (both directions).
_SOUND_ALIKE = {
    "es": (
        ("b", "v"),
        ("v", "b"),
        ("s", "c"),
        ("c", "s"),
        ("z", "s"),
        ("s", "z"),
        ("c", "z"),
        ("z", "c"),
        ("j", "g"),
        ("g", "j"),
        ("ll", "y"),
        ("y", "ll"),
        ("k", "c"),
        ("qu", "k"),
    ),
    "en": (("f", "ph"), ("ph", "f"), ("ie", "ei"), ("ei", "ie")),
}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class _Backend(Protocol):
    name: str

    def known(self, word: str) -> bool: ...

    def frequency(self, word: str) -> float: ...


class _HunspellBackend:
    def __init__(self, path_stems: Sequence[Path], frequencies: _Backend | None) -> None:
        from spylls.hunspell import Dictionary

        self._dictionaries: list[Any] = [Dictionary.from_files(str(p)) for p in path_stems]
        self._frequencies = frequencies
        self.name = "hunspell:" + "+".join(p.name for p in path_stems)

    def known(self, word: str) -> bool:
        return any(d.lookup(word) for d in self._dictionaries)

    def frequency(self, word: str) -> float:
        return self._frequencies.frequency(word) if self._frequencies is not None else 0.0


class _FrequencyBackend:
    def __init__(self, language: str) -> None:
        from spellchecker import SpellChecker as _PySpellChecker

        self._checker: Any = _PySpellChecker(language=language, case_sensitive=False)
        self.name = f"pyspellchecker:{language}"

    def known(self, word: str) -> bool:
        return word.lower() in self._checker.word_frequency

    def frequency(self, word: str) -> float:
        return float(self._checker.word_frequency[word.lower()] or 0)


def _dictionary_dirs(extra: Sequence[str]) -> list[Path]:
    dirs: list[str] = list(extra)
    env = os.environ.get("CS_CONSOLE_HUNSPELL_DIRS")
    if env:
        dirs.extend(p for p in env.split(os.pathsep) if p)
    dirs.extend(DEFAULT_DICTIONARY_DIRS)
    return [Path(d).expanduser() for d in dirs]


def _find_hunspell(language: str, extra_dirs: Sequence[str]) -> list[Path]:
    """The dictionaries to use: the first found, plus the other English variant.

    English accepts both US and British spellings when both dictionaries are
    installed ("canceled" and "cancelled").
    """
    dirs = [d for d in _dictionary_dirs(extra_dirs) if d.is_dir()]
    found: list[Path] = []
    for name in _PREFERRED[language]:
        for folder in dirs:
            stem = folder / name
            if stem.with_suffix(".dic").is_file() and stem.with_suffix(".aff").is_file():
                found.append(stem)
                break
        if found and language != "en":
            break
    if not found:
        for folder in dirs:
            for dic in sorted(folder.glob(f"{language}_*.dic")):
                if dic.with_suffix(".aff").is_file():
                    return [dic.with_suffix("")]
    return found


@dataclass(frozen=True)
class Misspelling:
    """A word the dictionary does not know, where it is, and likely fixes."""

    word: str
    start: int
    end: int
    suggestions: tuple[str, ...]


class SpellChecker:
    """One language's dictionary plus the rules for what not to check.

    Use :func:`get_checker` to share one instance per language.
    """

    def __init__(self, language: str, *, dictionary_dirs: Sequence[str] = ()) -> None:
        if language not in _PREFERRED:
            raise ValueError(
                _("no spelling dictionary for language {language}").format(language=repr(language))
            )
        self.language = language
        frequencies: _FrequencyBackend | None
        try:
            frequencies = _FrequencyBackend(language)
        except ImportError:  # pragma: no cover - pyspellchecker is a dependency
            frequencies = None
        stems = _find_hunspell(language, dictionary_dirs)
        backend: _HunspellBackend | _FrequencyBackend
        if stems:
            try:
                backend = _HunspellBackend(stems, frequencies)
            except ImportError:  # pragma: no cover - spylls is a dependency
                stems = []
        if not stems:
            if frequencies is None:  # pragma: no cover
                raise RuntimeError(_("no spelling dictionary available"))
            backend = frequencies
        self._backend = backend
        self.backend_name: str = backend.name
        self._lock = threading.Lock()
        self._cache: dict[str, bool] = {}

    @property
    def uses_hunspell(self) -> bool:
        """Whether real Hunspell dictionaries are in use."""
        return self.backend_name.startswith("hunspell:")

    def _lookup(self, word: str) -> bool:
        cached = self._cache.get(word)
        if cached is None:
            with self._lock:
                cached = self._backend.known(word)
            self._cache[word] = cached
        return cached

    def known(self, word: str) -> bool:
        """Whether ``word`` is spelled correctly (any case that makes sense)."""
        word = word.replace("’", "'")
        lower = word.lower()
        if lower in _SUPPLEMENT[self.language]:
            return True
        if self._lookup(word) or (word != lower and self._lookup(lower)):
            return True
        if word.isupper() and self._lookup(word.capitalize()):
            return True
        if self.language == "es":
            for pronoun in _ENCLITICS:
                if lower.endswith(pronoun) and len(lower) - len(pronoun) >= 3:
                    base = lower[: -len(pronoun)]
                    if self._lookup(base) or self._lookup(_strip_accents(base)):
                        return True
        return False

    def suggest(self, word: str, *, limit: int = 5) -> tuple[str, ...]:
        """Likely corrections for ``word``, best first (maybe none)."""
        return _suggest_cached(self, word, limit)

    def _suggest(self, word: str, limit: int) -> tuple[str, ...]:
        if len(word) > MAX_SUGGEST_LENGTH or limit <= 0:
            return ()
        lower = word.lower()
        plain = _strip_accents(lower).replace("'", "")
        scored: dict[str, tuple[int, float]] = {}

        def consider(candidate: str, rank: int) -> None:
            if candidate == lower or not candidate:
                return
            previous = scored.get(candidate)
            if previous is not None and previous[0] <= rank:
                return
            if " " in candidate:
                ok = all(self.known(part) for part in candidate.split(" "))
            else:
                ok = self.known(candidate)
            if ok:
                scored[candidate] = (rank, -self._backend.frequency(candidate))

        for candidate in _edits1(lower, _ALPHABET[self.language]):
            rank = 0 if _strip_accents(candidate).replace("'", "") == plain else 2
            consider(candidate, rank)
        for candidate in _sound_alikes(lower, self.language):
            consider(candidate, 1)
            for again in _edits1_accents(candidate):
                consider(again, 1)
        for i in range(2, len(lower) - 1):
            consider(f"{lower[:i]} {lower[i:]}", 1)
        ordered = sorted(scored, key=lambda c: (scored[c][0], scored[c][1], c))
        result = [_match_case(word, c) for c in ordered]
        capitalised = lower.capitalize()
        if word != capitalised and self._lookup(capitalised):
            result.insert(0, capitalised)  # "friday" -> "Friday"
        return tuple(dict.fromkeys(result))[:limit]


@lru_cache(maxsize=4096)
def _suggest_cached(checker: SpellChecker, word: str, limit: int) -> tuple[str, ...]:
    return checker._suggest(word, limit)


def _match_case(original: str, candidate: str) -> str:
    if original[:1].isupper() and original[1:].islower():
        return candidate[:1].upper() + candidate[1:]
    if original.isupper() and len(original) > 1:
        return candidate.upper()
    return candidate


def _edits1(word: str, alphabet: str) -> Iterator[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
        if len(right) > 1:
            yield left + right[1] + right[0] + right[2:]
        for ch in alphabet:
            if right:
                yield left + ch + right[1:]
            yield left + ch + right


def _edits1_accents(word: str) -> Iterator[str]:
    accents = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}
    for i, ch in enumerate(word):
        if ch in accents:
            yield word[:i] + accents[ch] + word[i + 1 :]


def _sound_alikes(word: str, language: str) -> set[str]:
    """Words reached by one or two sound-alike swaps (and a dropped/added h)."""
    found: set[str] = set()
    frontier = {word}
    for _step in range(2):
        nxt: set[str] = set()
        for current in frontier:
            for old, new in _SOUND_ALIKE[language]:
                start = current.find(old)
                while start != -1:
                    nxt.add(current[:start] + new + current[start + len(old) :])
                    start = current.find(old, start + 1)
            if language == "es":
                nxt.add("h" + current)
                if current.startswith("h"):
                    nxt.add(current[1:])
        found |= nxt
        frontier = nxt
    found.discard(word)
    return found


_CHECKERS: dict[tuple[str, tuple[str, ...]], SpellChecker] = {}
_CHECKERS_LOCK = threading.Lock()


def get_checker(language: str, *, dictionary_dirs: Sequence[str] = ()) -> SpellChecker:
    """The shared checker for ``language``, loading its dictionary on first use.

    Raises:
        ValueError: No dictionary exists for ``language`` (only ``es``/``en``).
    """
    key = (language, tuple(dictionary_dirs))
    checker = _CHECKERS.get(key)
    if checker is None:
        with _CHECKERS_LOCK:
            checker = _CHECKERS.get(key)
            if checker is None:
                checker = SpellChecker(language, dictionary_dirs=dictionary_dirs)
                _CHECKERS[key] = checker
    return checker


# What is never spell-checked: URLs, e-mail addresses, template placeholders,
# missing-variable markers, @handles, #tags.
_SKIP_SPANS = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\{\{.*?\}\}|⟦.*?⟧"
    r"|[@#][\w-]+",
    re.IGNORECASE,
)
# A token: letters, digits, and inner apostrophes, hyphens, dots or slashes.
_TOKEN = re.compile(r"[\w’']+(?:[-./][\w’']+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?¡¿:\n]\s*$")


def _skipped_ranges(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SKIP_SPANS.finditer(text)]


def find_misspellings(
    text: str,
    checker: SpellChecker,
    *,
    ignore: frozenset[str] = frozenset(),
    limit: int = 5,
) -> list[Misspelling]:
    """Every misspelled word of ``text`` with its position and suggestions.

    Not checked: URLs, e-mail addresses, ``{{ placeholders }}``, tokens with
    digits (order codes, amounts), words in capitals (codes such as ``DHL``,
    and shouting is another hint), capitalised words inside a sentence
    (names of people, places and brands), and any word in ``ignore``
    (lowercase, accents kept; the shop's words and the customer's name).
    """
    skipped = _skipped_ranges(text)
    found: list[Misspelling] = []
    for match in _TOKEN.finditer(text):
        start = match.start()
        if any(s <= start < e for s, e in skipped):
            continue
        token = match.group(0).strip("'’")
        start = start + match.group(0).index(token) if token else start
        for offset, part in _split_token(token):
            if not _should_check(part, text, start + offset, ignore):
                continue
            if checker.known(part):
                continue
            found.append(
                Misspelling(
                    word=part,
                    start=start + offset,
                    end=start + offset + len(part),
                    suggestions=checker.suggest(part, limit=limit),
                )
            )
    return found


def _split_token(token: str) -> Iterator[tuple[int, str]]:
    if any(ch.isdigit() for ch in token) or "." in token or "/" in token:
        return  # codes, amounts, file names, dates
    if "-" in token:
        position = 0
        for part in token.split("-"):
            if part:
                yield position, part
            position += len(part) + 1
        return
    yield 0, token


MAX_WORD_LENGTH = 40
"""Longer tokens are not words (pasted codes, hashes) and are not checked."""

MAX_SUGGEST_LENGTH = 24
"""Longer misspelled words get no suggestions (too many candidates to try)."""


def _should_check(word: str, text: str, start: int, ignore: frozenset[str]) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    if len(letters) < 2 or len(word) > MAX_WORD_LENGTH:
        return False
    if word.lower() in ignore or _strip_accents(word.lower()) in ignore:
        return False
    if word.isupper():
        return False
    if word[0].isupper() and not _starts_sentence(text, start):
        return False
    return not (any(ch.isupper() for ch in word[1:]) and not word.isupper())


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start]
    if not before.strip():
        return True
    return bool(_SENTENCE_END.search(before))
