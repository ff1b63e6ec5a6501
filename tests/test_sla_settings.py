"""SLA settings: durations, spans, business hours, policies and their matching, config TOML."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cs_console.desk.sla import (
    BusinessHoursSettings,
    Duration,
    EscalationRule,
    PauseSettings,
    SlaPolicySettings,
    SlaSettings,
    default_policies,
    match_policy,
    parse_duration,
    parse_duration_minutes,
    parse_span,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", Duration(minutes=30)),
        ("90min", Duration(minutes=90)),
        ("5h", Duration(minutes=300)),
        ("1.5h", Duration(minutes=90)),
        ("1h30m", Duration(minutes=90)),
        ("1h 30m", Duration(minutes=90)),
        ("2d", Duration(days=2)),
        (" 2 D ", Duration(days=2)),
        ("1d4h", Duration(minutes=240, days=1)),
        ("1w", Duration(weeks=1)),
        ("5", Duration(minutes=300)),
        (5, Duration(minutes=300)),
        (0.5, Duration(minutes=30)),
    ],
)
def test_parse_duration(text: str | int | float, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "0h", "0", "-1h", "5x", "h", "5h-", "1h,30m", True])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30m", 30), ("5h", 300), ("1d", 1440), ("2d", 2880), ("1w", 10080), ("1h30m", 90)],
)
def test_parse_duration_minutes_reads_the_24_7_clock(text: str, minutes: int) -> None:
    assert parse_duration_minutes(text) == minutes


def test_duration_days_depend_on_the_clock() -> None:
    duration = parse_duration("1d2h")
    assert duration.to_timedelta(day=timedelta(hours=9), week=timedelta(hours=45)) == timedelta(
        hours=11
    )
    assert duration.to_timedelta(day=timedelta(days=1), week=timedelta(weeks=1)) == timedelta(
        hours=26
    )


@given(value=st.integers(min_value=1, max_value=100_000), unit=st.sampled_from(["m", "h", "d"]))
def test_parse_duration_minutes_round_trips(value: int, unit: str) -> None:
    factor = {"m": 1, "h": 60, "d": 1440}[unit]
    assert parse_duration_minutes(f"{value}{unit}") == value * factor


@given(st.text(max_size=12))
def test_parse_duration_never_crashes_on_text(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert duration.minutes > 0 or duration.days > 0 or duration.weeks > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-18:00", (time(9), time(18))),
        (" 9:30 - 14:00 ", (time(9, 30), time(14))),
        ("00:00-24:00", (time(0), time.max)),
    ],
)
def test_parse_span(text: str, expected: tuple[time, time]) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize(
    "text", ["9-18", "18:00-09:00", "10:00-10:00", "25:00-26:00", "09:60-10:00", "00:00-24:30"]
)
def test_parse_span_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_span(text)


def test_business_day_is_the_usual_opening_day() -> None:
    assert BusinessHoursSettings().business_day() == timedelta(hours=9)
    assert BusinessHoursSettings().business_week() == timedelta(hours=45)
    split = BusinessHoursSettings(
        **{
            d: ["09:00-14:00", "16:00-19:00"]
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        saturday=["10:00-14:00"],
    )
    assert split.business_day() == timedelta(hours=8)
    assert split.business_week() == timedelta(hours=44)
    # A tie between lengths goes to the longest.
    tie = BusinessHoursSettings(
        monday=["09:00-13:00"],
        tuesday=["09:00-17:00"],
        wednesday=[],
        thursday=[],
        friday=[],
    )
    assert tie.business_day() == timedelta(hours=8)


def test_overlapping_spans_are_merged() -> None:
    hours = BusinessHoursSettings(monday=["09:00-12:00", "11:00-14:00", "16:00-18:00"])
    assert hours.spans(0) == [(time(9), time(14)), (time(16), time(18))]
    assert hours.day_length(0) == timedelta(hours=7)


def test_a_shop_must_open_some_day() -> None:
    with pytest.raises(ValidationError, match="at least one weekday"):
        BusinessHoursSettings(
            monday=[], tuesday=[], wednesday=[], thursday=[], friday=[], saturday=[], sunday=[]
        )


def test_bad_span_in_hours_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        BusinessHoursSettings(monday=["18:00-09:00"])


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x", "first_reply": "soon"},
        {"name": "x", "calendar": "weekdays"},
        {"name": "x", "warning_threshold": 1.5},
        {"name": "x", "unknown": 1},
    ],
)
def test_policy_refuses(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SlaPolicySettings(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["24/7", "24x7", "calendar", "Calendar", "always"])
def test_round_the_clock_calendar_aliases(value: str) -> None:
    assert SlaPolicySettings(name="x", calendar=value).calendar == "24/7"


def test_policy_accepts_numbers_as_hours() -> None:
    policy = SlaPolicySettings(name="x", first_reply=4)  # type: ignore[arg-type]
    assert policy.first_reply == "4h"
    assert policy.target("first_reply") == "4h"
    with pytest.raises(ValueError):
        policy.target("lunch")


def test_default_policies_follow_the_domain() -> None:
    policies = {p.name: p for p in default_policies()}
    assert policies["urgent"].first_reply == "1h"
    assert policies["high"].first_reply == "5h"
    assert policies["default"].first_reply == "1d"
    assert policies["low"].first_reply == "2d"
    assert policies["returns and warranty"].resolution == "2d"
    assert default_policies()[-1].is_catch_all


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ({"priority": "urgent", "category": "", "channel": "email"}, "urgent"),
        ({"priority": "URGENT", "category": "", "channel": "email"}, "urgent"),
        ({"priority": "urgent", "category": "returns", "channel": "email"}, "returns and warranty"),
        ({"priority": "low", "category": "Warranty", "channel": "email"}, "returns and warranty"),
        ({"priority": "high", "category": "payment", "channel": "chat"}, "high"),
        ({"priority": "normal", "category": "payment", "channel": "email"}, "default"),
        ({"priority": "whatever", "category": "", "channel": ""}, "default"),
    ],
)
def test_first_matching_policy_wins(ticket: dict[str, str], expected: str) -> None:
    policy = match_policy(default_policies(), **ticket)
    assert policy is not None and policy.name == expected


def test_tag_and_channel_criteria() -> None:
    policies = [
        SlaPolicySettings(name="vip chat", tag=["vip"], channel=["chat"], first_reply="5m"),
        SlaPolicySettings(name="vip", tag=["vip", "wholesale"], first_reply="1h"),
    ]
    assert (
        match_policy(policies, priority="normal", category="", channel="chat", tags={"VIP", "x"})
        == (policies[0])
    )
    assert (
        match_policy(policies, priority="normal", category="", channel="email", tags={"wholesale"})
        == (policies[1])
    )
    assert match_policy(policies, priority="normal", category="", channel="chat", tags=()) is None


@pytest.mark.parametrize(
    "fields",
    [{"first_reply": ["archived"]}, {"resolution": ["solved"]}, {"next_reply": ["closed"]}],
)
def test_pause_sets_must_name_pausing_statuses(fields: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError):
        PauseSettings(**fields)


def test_escalation_rule_validation_and_key() -> None:
    rule = EscalationRule(when="warning", target="first_reply", add_tag="escalated")  # type: ignore[arg-type]
    assert rule.target == ["first_reply"]
    assert rule.key == "warning:first_reply:*:priority=:tag=escalated:assign="
    assert EscalationRule(name="boss", when="breached", assign="maria").key == "boss"
    with pytest.raises(ValidationError, match="set_priority, add_tag or assign"):
        EscalationRule(when="breached")
    with pytest.raises(ValidationError):
        EscalationRule(when="breached", target=["lunch"], assign="maria")
    with pytest.raises(ValidationError):
        EscalationRule(when="late", assign="maria")  # type: ignore[arg-type]


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="two SLA policies"):
        SlaSettings(policies=[SlaPolicySettings(name="a"), SlaPolicySettings(name="a")])
    with pytest.raises(ValidationError, match="same name"):
        SlaSettings(
            escalation=[
                EscalationRule(name="x", when="warning", assign="a"),
                EscalationRule(name="x", when="breached", assign="b"),
            ]
        )


CONFIG = """
[business_hours]
monday = ["09:00-14:00", "16:00-19:00"]
tuesday = ["09:00-14:00", "16:00-19:00"]
wednesday = ["09:00-14:00", "16:00-19:00"]
thursday = ["09:00-14:00", "16:00-19:00"]
friday = ["09:00-14:00", "16:00-19:00"]
saturday = ["10:00-14:00"]
sunday = []
public_holidays = true
closed_days = [2026-08-10, 2026-08-11, "2026-12-24"]

[sla]
warning_threshold = 0.2
reopen = "resume"

[sla.pause]
first_reply = ["pending"]
next_reply = ["pending"]
resolution = ["pending", "on_hold"]

[[sla.policies]]
name = "chat"
channel = ["chat"]
first_reply = "5m"
next_reply = "10m"
calendar = "24/7"

[[sla.policies]]
name = "returns and warranty"
category = ["returns", "warranty"]
first_reply = "1d"
resolution = "2d"

[[sla.policies]]
name = "default"
first_reply = "1d"
next_reply = "1d"
resolution = "3d"

[[sla.escalation]]
when = "warning"
target = "first_reply"
add_tag = "escalated"

[[sla.escalation]]
name = "breach to maria"
when = "breached"
target = ["first_reply", "next_reply"]
policy = ["default"]
set_priority = "high"
assign = "maria"
"""


def test_config_sections_from_toml() -> None:
    data = tomllib.loads(CONFIG)
    hours = BusinessHoursSettings.model_validate(data["business_hours"])
    sla = SlaSettings.model_validate(data["sla"])
    assert hours.closed_days == [date(2026, 8, 10), date(2026, 8, 11), date(2026, 12, 24)]
    assert hours.business_day() == timedelta(hours=8)
    assert [p.name for p in sla.policies] == ["chat", "returns and warranty", "default"]
    assert sla.policies[0].calendar == "24/7"
    assert sla.warning_threshold == 0.2
    assert sla.pause.statuses("resolution") == {"pending", "on_hold"}
    assert [r.key for r in sla.escalation][1] == "breach to maria"
    assert sla.escalation[1].target == ["first_reply", "next_reply"]


def test_the_documented_config_is_valid() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "sla.md").read_text()
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    data = tomllib.loads(block)
    hours = BusinessHoursSettings.model_validate(data["business_hours"])
    sla = SlaSettings.model_validate(data["sla"])
    assert hours.business_day() == timedelta(hours=8)
    assert [p.name for p in sla.policies][-1] == "default"
    assert sla.policies[-1].is_catch_all
    assert data["shop"]["region"] == "MD"
