"""An immutable table of open spans with running totals, for O(log n) business time.

A calendar grows its table a year at a time by building a new table and
swapping it in, so readers in other threads always see a consistent snapshot.
Running totals are anchored: growing the table backwards gives the new spans
negative totals instead of shifting the old ones, so totals read from any two
snapshots can be subtracted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

Span = tuple[int, int]


class SpanTable:
    """Sorted, disjoint open spans (UTC microseconds) covering the years ``first_year..last_year``.

    Attributes:
        starts, ends: The spans.
        before, after: Open time before each span starts and after it ends, from a fixed origin.
        lo, hi: The instants the table covers, ``[lo, hi)``.
    """

    __slots__ = ("after", "before", "ends", "first_year", "hi", "last_year", "lo", "starts")

    def __init__(
        self,
        starts: list[int],
        ends: list[int],
        before: list[int],
        after: list[int],
        *,
        first_year: int,
        last_year: int,
        lo: int,
        hi: int,
    ) -> None:
        self.starts = starts
        self.ends = ends
        self.before = before
        self.after = after
        self.first_year = first_year
        self.last_year = last_year
        self.lo = lo
        self.hi = hi

    @classmethod
    def first(cls, spans: Sequence[Span], *, year: int, lo: int, hi: int) -> SpanTable:
        """A table of one year."""
        return cls([], [], [], [], first_year=year, last_year=year - 1, lo=lo, hi=lo).appended(
            spans, hi=hi
        )

    def appended(self, spans: Sequence[Span], *, hi: int) -> SpanTable:
        """This table followed by the next year's ``spans``, covering up to ``hi``."""
        starts, ends = list(self.starts), list(self.ends)
        before, after = list(self.before), list(self.after)
        spans = list(spans)
        if starts and spans and spans[0][0] <= ends[-1]:
            # Open across New Year's midnight: the first span continues the last one.
            end = spans.pop(0)[1]
            if end > ends[-1]:
                after[-1] += end - ends[-1]
                ends[-1] = end
        total = after[-1] if after else 0
        for start, end in spans:
            starts.append(start)
            ends.append(end)
            before.append(total)
            total += end - start
            after.append(total)
        return SpanTable(
            starts,
            ends,
            before,
            after,
            first_year=self.first_year,
            last_year=self.last_year + 1,
            lo=self.lo,
            hi=hi,
        )

    def prepended(self, spans: Sequence[Span], *, lo: int) -> SpanTable:
        """The previous year's ``spans`` followed by this table, covering from ``lo``."""
        starts, ends = list(self.starts), list(self.ends)
        before, after = list(self.before), list(self.after)
        spans = list(spans)
        if starts and spans and spans[-1][1] >= starts[0]:
            start = spans.pop()[0]
            if start < starts[0]:
                before[0] -= starts[0] - start
                starts[0] = start
        total = (before[0] if before else 0) - sum(end - start for start, end in spans)
        new_starts: list[int] = []
        new_ends: list[int] = []
        new_before: list[int] = []
        new_after: list[int] = []
        for start, end in spans:
            new_starts.append(start)
            new_ends.append(end)
            new_before.append(total)
            total += end - start
            new_after.append(total)
        return SpanTable(
            new_starts + starts,
            new_ends + ends,
            new_before + before,
            new_after + after,
            first_year=self.first_year - 1,
            last_year=self.last_year,
            lo=lo,
            hi=self.hi,
        )

    def covers(self, t: int) -> bool:
        """Whether instant ``t`` lies in the covered years."""
        return self.lo <= t < self.hi

    def cumulative(self, t: int) -> int:
        """Open time up to ``t`` (which must be covered), from the table's origin."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return self.before[0] if self.before else 0
        if t < self.ends[i]:
            return self.before[i] + t - self.starts[i]
        return self.after[i]

    def reaches(self, cumulative: int) -> bool:
        """Whether the table's open time goes as far as ``cumulative``."""
        return bool(self.after) and cumulative <= self.after[-1]

    def instant(self, cumulative: int, *, not_before: int) -> int:
        """The earliest instant whose open time is ``cumulative`` (which the table must reach),
        but not before ``not_before``."""
        i = bisect_left(self.after, cumulative)
        before = self.before[i]
        if cumulative <= before:
            return not_before
        return max(self.starts[i] + cumulative - before, not_before)

    def open_at(self, t: int) -> tuple[bool, int | None]:
        """Whether ``t`` is open, and the start of the next span after ``t`` in the table."""
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.ends[i]:
            return True, None
        return False, self.starts[i + 1] if i + 1 < len(self.starts) else None
