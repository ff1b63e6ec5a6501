"""Tell mail written by a robot from mail written by a person (RFC 3834).

The desk never answers automatically a message this module calls automated:
auto-replies, mailing lists, bounces and our own mail. Two robots answering
each other is the loop this prevents.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from cs_console.mail.parse import ParsedHeaders, ParsedMessage

__all__ = ["AutomationVerdict", "classify_automated"]


@dataclass(frozen=True)
class AutomationVerdict:
    """Whether a message was sent by a machine, and the evidence."""

    automated: bool
    reason: str


_HUMAN = AutomationVerdict(False, "no sign of automation")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
_ROBOT_LOCALPARTS = frozenset(
    {
        "mailer-daemon",
        "postmaster",
        "no-reply",
        "noreply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "bounce",
        "bounces",
    }
)
_REPORT_DSN = re.compile(r"multipart/report\b.*report-type\s*=\s*\"?delivery-status", re.I)
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")


def _norm(address: str) -> str:
    return address.strip().strip("<>").casefold()


def classify_automated(
    parsed: ParsedMessage | ParsedHeaders, *, own_addresses: Collection[str] = ()
) -> AutomationVerdict:
    """Decide whether ``parsed`` was sent by a machine; the first evidence wins.

    Args:
        parsed: A full parse or the header-only pass.
        own_addresses: The shop's own addresses; mail from them is never
            answered (it is our own auto-reply or outbox coming back).
    """
    headers = parsed.headers
    auto_submitted = headers.get("auto-submitted", "").strip()
    if auto_submitted:
        value = re.split(r"[\s;(]", auto_submitted, maxsplit=1)[0].lower()
        if value != "no":
            return AutomationVerdict(True, f"Auto-Submitted: {value}")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return AutomationVerdict(True, f"Precedence: {precedence}")
    for name in sorted(headers):
        if name.startswith("list-"):
            return AutomationVerdict(True, f"{_title(name)} header")
    for name in _AUTOREPLY_HEADERS:
        if name in headers:
            return AutomationVerdict(True, f"{_title(name)} header")
    suppress = headers.get("x-auto-response-suppress", "")
    tokens = {t.strip().lower() for t in re.split(r"[,;\s]+", suppress) if t.strip()}
    if tokens & _SUPPRESS_VALUES:
        shown = ", ".join(sorted(tokens & _SUPPRESS_VALUES))
        return AutomationVerdict(True, f"X-Auto-Response-Suppress: {shown}")
    if "return-path" in headers and headers["return-path"].strip().strip("<>").strip() == "":
        return AutomationVerdict(True, "bounce (null return path)")
    if _REPORT_DSN.search(headers.get("content-type", "")):
        return AutomationVerdict(True, "delivery-status report")
    sender = parsed.sender
    if sender is not None:
        address = _norm(sender.address)
        localpart = address.rpartition("@")[0] or address
        if localpart in _ROBOT_LOCALPARTS:
            return AutomationVerdict(True, f"robot sender ({localpart})")
        own = {_norm(a) for a in own_addresses}
        if address in own:
            return AutomationVerdict(True, "sent from one of our own addresses")
    return _HUMAN


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
