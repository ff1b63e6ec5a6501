"""Properties of subject threading: normalisation and ``[#N]`` ticket tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.threading import normalize_subject, subject_with_token, ticket_tokens

PREFIXES = st.sampled_from(["Re: ", "RE:", "Fwd: ", "AW: ", "RV: ", "Fw: ", "[#7] ", "[Shop] "])
SUBJECTS = st.text(max_size=80) | st.lists(
    st.sampled_from(["[#", "]", "12", "Re:", " ", "ñ", "\u202e", "\x1b", "#", "[#999999999]"]),
    max_size=12,
).map("".join)
NUMBERS = st.integers(min_value=1, max_value=999_999_999)


@given(SUBJECTS)
def test_tokens_are_bounded_numbers(subject: str) -> None:
    tokens = ticket_tokens(subject)
    assert all(0 <= n < 10**9 for n in tokens)
    assert len(tokens) <= subject.count("[#")


@given(SUBJECTS, NUMBERS)
def test_a_stamped_subject_names_its_ticket_once(subject: str, number: int) -> None:
    stamped = subject_with_token(subject, number)
    assert number in ticket_tokens(stamped)
    assert subject_with_token(stamped, number) == stamped
    assert stamped.count(f"[#{number}]") == max(1, subject.count(f"[#{number}]"))


@given(SUBJECTS, NUMBERS, st.lists(PREFIXES, max_size=4))
def test_normalised_subject_ignores_prefixes_and_tokens(
    subject: str, number: int, prefixes: list[str]
) -> None:
    plain = normalize_subject(subject)
    assert normalize_subject("".join(prefixes) + subject_with_token(subject, number)) == (
        normalize_subject(subject_with_token(subject, number))
    )
    assert ticket_tokens(plain) == []
    assert normalize_subject(plain) == plain
    assert plain == plain.strip() and "  " not in plain
