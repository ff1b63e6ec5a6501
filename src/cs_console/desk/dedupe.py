"""The content hash that, with the Message-ID, identifies an email.

A message is the same as one already stored when its Message-ID and its
content hash both match (:mod:`cs_console.desk.ingest`). This module needs
only the parser's result, so a sync's parser processes compute the hash
beside the parse (:mod:`cs_console.desk.sync_parse`).
"""

from __future__ import annotations

import hashlib
import re

from cs_console.mail.parse import ParsedMessage

__all__ = ["dedupe_hash"]

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def dedupe_hash(raw: bytes, parsed: ParsedMessage | None = None) -> str:
    """The hash over the Message-ID, Date, From, Subject and the body bytes.

    It leaves out the trace headers a server adds on delivery (Received,
    Delivered-To, Return-Path...), so the same email delivered to two of the
    shop's addresses is recognised, while a sender reusing a Message-ID for
    different mail is not mistaken for a duplicate. Without a Message-ID the
    hash covers the whole raw message.
    """
    data = raw.replace(b"\r\n", b"\n")
    digest = hashlib.sha256()
    if parsed is None or not parsed.message_id:
        digest.update(b"raw\n")
        digest.update(data.rstrip())
        return digest.hexdigest()
    match = _HEADER_END.search(data)
    body = data[match.end() :] if match else b""
    sender = parsed.sender.address.lower() if parsed.sender else ""
    date = parsed.date.isoformat() if parsed.date else ""
    digest.update(f"{parsed.message_id}\n{date}\n{sender}\n{parsed.subject}\n".encode())
    digest.update(body.rstrip())
    return digest.hexdigest()
