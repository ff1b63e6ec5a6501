"""UID sets as stored in a folder's state: compact, and read back exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cs_console.mail.imap_sync import parse_uid_set, uid_set


def test_runs_are_written_as_ranges() -> None:
    assert uid_set([7, 1, 2, 3, 3, 9, 10]) == "1:3,7,9:10"
    assert uid_set([]) == ""
    assert parse_uid_set("1:3,7,9:10") == [1, 2, 3, 7, 9, 10]
    assert parse_uid_set(None) == parse_uid_set("") == []


@given(st.sets(st.integers(min_value=1, max_value=10_000), max_size=300))
def test_round_trip(uids: set[int]) -> None:
    assert parse_uid_set(uid_set(uids)) == sorted(uids)
