"""Spell checking: what is checked, what is ignored, suggestions, backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_console.desk.writing import (
    SpellChecker,
    WritingSettings,
    find_misspellings,
    get_checker,
    lint_reply,
    spelling_hints,
)
from cs_console.desk.writing import spelling as spelling_module


def _system_hunspell(language: str) -> bool:
    return bool(spelling_module._find_hunspell(language, ()))


needs_hunspell = pytest.mark.skipif(
    not (_system_hunspell("es") and _system_hunspell("en")),
    reason="system Hunspell dictionaries (hunspell-es, hunspell-en-us) not installed",
)

ONLY_SPELLING = WritingSettings(enabled=frozenset({"spelling"}))


def words(text: str, language: str, **kwargs: object) -> list[str]:
    hints = lint_reply(text, language=language, settings=ONLY_SPELLING, **kwargs)  # type: ignore[arg-type]
    return [text[h.start : h.end] for h in hints if h.start is not None and h.end is not None]


# A tiny Hunspell dictionary, so the rules are tested without system packages.
AFF = "SET UTF-8\nTRY esianrtolcdugmphbyfvkwzáéíóúñ\n\nSFX S Y 1\nSFX S 0 s .\n"
DIC = (
    "20\nhola\npedido/S\ngracias\ntu\nsale\nhoy\nun\nsaludo\nenvío/S\nAna\ncaja/S\npor\n"
    "visita\no\nescribe\na\ncon\ny\ncódigo\nde\n"
)


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SpellChecker:
    (tmp_path / "es_ES.aff").write_text(AFF, encoding="utf-8")
    (tmp_path / "es_ES.dic").write_text(DIC, encoding="utf-8")
    monkeypatch.setattr(spelling_module, "DEFAULT_DICTIONARY_DIRS", ())
    monkeypatch.delenv("CS_CONSOLE_HUNSPELL_DIRS", raising=False)
    checker = SpellChecker("es", dictionary_dirs=(str(tmp_path),))
    assert checker.uses_hunspell
    return checker


def found(text: str, checker: SpellChecker, **kwargs: object) -> list[str]:
    return [m.word for m in find_misspellings(text, checker, **kwargs)]  # type: ignore[arg-type]


def test_tiny_dictionary_flags_and_suggests(tiny: SpellChecker) -> None:
    result = find_misspellings("Hola Ana: tu pedidoo sale hoy.", tiny)
    assert [(m.word, m.start, m.end) for m in result] == [("pedidoo", 13, 20)]
    assert result[0].suggestions[0] == "pedido"


def test_accent_fix_ranks_first(tiny: SpellChecker) -> None:
    assert tiny.suggest("envio")[0] == "envío"
    assert tiny.suggest("Envios")[0] == "Envíos"


def test_split_run_together_words(tiny: SpellChecker) -> None:
    assert "un saludo" in tiny.suggest("unsaludo")


@pytest.mark.parametrize(
    "text",
    [
        "Hola, visita https://tienda.example/ayuda/xyzzy o www.qwrtz.es",
        "Escribe a soporte.qwrtz@tienda.es",
        "Tu pedido A-10023 sale hoy, 12,50 € por caja",
        "Tu pedido {{ order_number }} sale hoy",
        "Tu pedido ⟦missing: order_number⟧ sale hoy",
        "Envío con DHLX y código QWRTZ",
        "Hola Ana, saludo de Zaragozza y Qwrtz",  # capitalised inside a sentence: names
        "Un saludo, #qwrtz @qwrtz",
        "hola x y z",
    ],
)
def test_ignored_tokens(tiny: SpellChecker, text: str) -> None:
    assert found(text, tiny) == []


def test_sentence_start_is_checked(tiny: SpellChecker) -> None:
    assert found("Hola. Qwrtz sale hoy.", tiny) == ["Qwrtz"]


def test_ignore_list(tiny: SpellChecker) -> None:
    assert found("hola qwrtz", tiny) == ["qwrtz"]
    assert found("hola qwrtz", tiny, ignore=frozenset({"qwrtz"})) == []


def test_hyphenated_parts_are_checked_separately(tiny: SpellChecker) -> None:
    result = find_misspellings("hola pedido-qwrtz", tiny)
    assert [(m.word, m.start) for m in result] == [("qwrtz", 12)]


def test_fallback_without_hunspell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(spelling_module, "DEFAULT_DICTIONARY_DIRS", ())
    monkeypatch.delenv("CS_CONSOLE_HUNSPELL_DIRS", raising=False)
    checker = SpellChecker("en", dictionary_dirs=(str(tmp_path),))
    assert not checker.uses_hunspell
    assert found("We received your order.", checker) == []
    assert found("We recieved your order.", checker) == ["recieved"]
    assert checker.suggest("recieved")[0] == "received"


def test_unknown_language_has_no_spelling() -> None:
    assert spelling_hints("qwrtz", language="fr") == []
    with pytest.raises(ValueError):
        SpellChecker("fr")


@pytest.mark.skipif(
    not (
        _system_hunspell("en")
        and any(p.name == "en_GB" for p in spelling_module._find_hunspell("en", ()))
    ),
    reason="British English dictionary (hunspell-en-gb) not installed",
)
def test_english_accepts_us_and_british_spellings() -> None:
    assert words("We cancelled it; your neighbour has the parcel. Canceled.", "en") == []


@needs_hunspell
def test_checker_is_shared() -> None:
    assert get_checker("es") is get_checker("es")


@needs_hunspell
@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "es",
            "Hola, Ana:\n\nGracias por escribirnos. Tu pedido ya está en camino y te "
            "llegará mañana. Contáctanos por email si necesitas algo.\n\nUn saludo,\nLuis",
            [],
        ),
        ("es", "Hola: la devolucion de tu pedido ya esta resivida.", ["devolucion", "resivida"]),
        ("es", "Te lo enviamos porfavor mañana.", ["porfavor"]),
        (
            "en",
            "Hi Tom,\n\nThanks for writing. We've canceled the order and you'll get the "
            "refund on your PayPal account.\n\nBest regards,\nLuis",
            [],
        ),
        ("en", "We recieved your retrun untill today.", ["recieved", "retrun", "untill"]),
    ],
)
def test_real_dictionaries(language: str, text: str, expected: list[str]) -> None:
    assert words(text, language) == expected


@needs_hunspell
@pytest.mark.parametrize(
    ("language", "word", "first"),
    [
        ("es", "devolucion", "devolución"),
        ("es", "resivido", "recibido"),
        ("es", "porfavor", "por favor"),
        ("en", "recieved", "received"),
        ("en", "Dont", "Don't"),
        ("en", "friday", "Friday"),
    ],
)
def test_real_suggestions(language: str, word: str, first: str) -> None:
    assert get_checker(language).suggest(word)[0] == first


@needs_hunspell
def test_shop_words_and_customer_name_are_not_flagged() -> None:
    text = "Hola Xochitl: tu zapatilla Runnexa ya salió. Un saludo, Qwrtzshop."
    settings = WritingSettings(enabled=frozenset({"spelling"}), shop_words=("runnexa", "Qwrtzshop"))
    assert lint_reply(text, language="es", customer_name="Xóchitl Pérez", settings=settings) == []
    # Without the lists, the sentence-initial shop name is flagged.
    assert words("Runnexa ya salió.", "es") == ["Runnexa"]


@needs_hunspell
def test_spelling_hint_shape() -> None:
    hints = spelling_hints("Tu pedio ya salió.", language="es")
    assert len(hints) == 1
    hint = hints[0]
    assert (hint.code, hint.start, hint.end) == ("spelling", 3, 8)
    assert "pedido" in hint.suggestions
    assert "pedio" in hint.message and "diccionario" in hint.message
