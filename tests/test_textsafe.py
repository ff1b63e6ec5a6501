"""textsafe: control stripping, one-line text, safe file names, CSV cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_console.textsafe import (
    FORBIDDEN_CHARS,
    csv_safe_cell,
    one_line,
    safe_filename,
    strip_controls,
)

# Text biased towards the dangerous characters.
nasty_chars = st.sampled_from(
    [*sorted(FORBIDDEN_CHARS), "\r", "\n", "\t", "/", "\\", ".", " ", ":", "[", "]", "ñ", "€"]
)
nasty_text = st.text(alphabet=st.one_of(nasty_chars, st.characters()), max_size=300)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("keep\ttab", "keep\ttab"),
        ("\x1b[2Jclear", "[2Jclear"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "]8;;http://evil\\link]8;;\\"),
        ("\x1b]52;c;ZXZpbA==\x07", "]52;c;ZXZpbA=="),
        ("\x9b31mred", "31mred"),
        ("abc\u202etxt.exe", "abctxt.exe"),
        ("\u2066iso\u2069 \u200fmark\u200e \u061c", "iso mark "),
        ("del\x7fete\x00nul", "deletenul"),
        ("José Muñoz — €", "José Muñoz — €"),
    ],
)
def test_strip_controls_examples(raw: str, expected: str) -> None:
    assert strip_controls(raw) == expected


@given(nasty_text)
def test_strip_controls_leaves_no_forbidden_char(text: str) -> None:
    out = strip_controls(text)
    assert not set(out) & FORBIDDEN_CHARS
    assert "\r" not in out
    assert "\x1b" not in out


@given(nasty_text)
def test_strip_controls_is_idempotent(text: str) -> None:
    once = strip_controls(text)
    assert strip_controls(once) == once


@given(nasty_text, st.one_of(st.none(), st.integers(min_value=1, max_value=80)))
def test_one_line_has_no_newline_and_respects_limit(text: str, limit: int | None) -> None:
    out = one_line(text, limit=limit)
    assert "\n" not in out and "\t" not in out
    assert not set(out) & FORBIDDEN_CHARS
    if limit is not None:
        assert len(out) <= limit


def test_one_line_folds_and_cuts() -> None:
    assert one_line("  Pedido\r\n\t 123  ") == "Pedido 123"
    assert one_line("abcdefghij", limit=5) == "abcd…"
    assert one_line("abc", limit=5) == "abc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("factura.pdf", "factura.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/secret.txt", "secret.txt"),
        ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("LPT9.tar.gz", "_LPT9.tar.gz"),
        ("COM10.txt", "COM10.txt"),
        ("..", "attachment"),
        ("...", "attachment"),
        ("   .hidden", "hidden"),
        ('what<>:"|?*.txt', "what_______.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("a\x00b\x1b[2Jc.txt", "ab[2Jc.txt"),
        ("", "attachment"),
        (None, "attachment"),
        ("trailing. . ", "trailing"),
    ],
)
def test_safe_filename_examples(raw: str | None, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_safe_filename_caps_length_and_keeps_extension() -> None:
    name = safe_filename("a" * 300 + ".pdf")
    assert len(name) == 150
    assert name.endswith(".pdf")


def test_safe_filename_caps_utf8_bytes() -> None:
    name = safe_filename("日本語" * 60 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode("utf-8")) <= 240
    assert safe_filename("bad\ud800name.txt") == "bad_name.txt"


def test_safe_filename_fallback_is_sanitised_too() -> None:
    assert safe_filename("../", fallback="../../x.bin") == "x.bin"
    assert safe_filename(None, fallback="..") == "attachment"


@given(nasty_text, st.text(max_size=20))
def test_safe_filename_properties(name: str, fallback: str) -> None:
    out = safe_filename(name, fallback=fallback)
    assert out
    assert "/" not in out and "\\" not in out
    assert out not in {".", ".."}
    assert not out.startswith((".", " "))
    assert not set(out) & FORBIDDEN_CHARS
    assert not set(out) & set('<>:"|?*\n\t\r')
    assert len(out) <= 150
    assert len(out.encode("utf-8")) <= 240
    stem = out.split(".")[0].strip().upper()
    assert stem not in {"CON", "PRN", "AUX", "NUL"}
    assert not (len(stem) == 4 and stem[:3] in {"COM", "LPT"} and stem[3] in "123456789")


@given(nasty_text)
def test_safe_filename_stays_inside_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    folder = tmp_path_factory.getbasetemp() / "attachments"
    target = Path(folder, safe_filename(name)).resolve()
    assert target.parent == folder.resolve()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+34 600 000 000", "'+34 600 000 000"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("José", "José"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_safe_cell_examples(raw: str, expected: str) -> None:
    assert csv_safe_cell(raw) == expected


@given(st.text(max_size=50))
def test_csv_safe_cell_never_starts_a_formula(value: str) -> None:
    out = csv_safe_cell(value)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out.endswith(value)
