"""The desk: tickets, SLA clocks, routing, canned answers, writing hints, metrics.

Pure domain code takes ``now`` as a parameter instead of reading the clock.
"""
