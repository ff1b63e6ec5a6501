"""Separate what the customer wrote now from quoted earlier mail and signatures.

Works on plain text (HTML is converted first), in Spanish and English, and
recognises:

- reply headers: ``On <date>, <name> wrote:`` / ``El <fecha>, <nombre> escribió:``
  (also wrapped over up to three lines, as Gmail does), German ``Am ... schrieb``;
- Outlook blocks: ``-----Original Message-----`` / ``-----Mensaje original-----``,
  an underscore rule, or ``From: ... Sent: ...`` / ``De: ... Enviado: ...``
  header blocks;
- forwarded-message markers (``---------- Forwarded message ---------``,
  ``Mensaje reenviado``, ``Begin forwarded message:``);
- a trailing run of ``>``-quoted lines;
- the ``-- `` signature delimiter and common mobile signatures ("Sent from my
  iPhone", "Enviado desde mi móvil", "Get Outlook for Android"...).

mail-parser-reply was tried: it folded a Spanish ``El ... escribió:`` quote
into the signature, so this small module does the job instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SplitReply", "split_reply"]


@dataclass(frozen=True)
class SplitReply:
    """A message body cut in three: new text, quoted text, signature."""

    new_text: str
    quoted_text: str
    signature: str


_WROTE = re.compile(
    r"^\s*(?:On|El|Am|Le)\b.{0,400}?\b(?:wrote|escribió|escribio|schrieb|a écrit)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_WROTE_END = re.compile(r"(?:wrote|escribió|escribio|schrieb|a écrit)\s*:\s*$", re.IGNORECASE)
_WROTE_START = re.compile(r"^\s*(?:On|El|Am|Le)\s", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Mensaje original|Message d'origine|"
    r"Forwarded message|Mensaje reenviado|Mensaje original reenviado|Reply message|"
    r"Mensaje de respuesta)\s*-{2,}\s*$"
    r"|^\s*(?:Begin forwarded message|Inicio del mensaje reenviado)\s*:\s*$"
    r"|^\s*_{20,}\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\s*\*?\s*(?:From|De)\s*:\s*\*?\s*\S", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^\s*\*?\s*(?:Sent|Date|Enviado(?: el)?|Fecha|To|Para|Subject|Asunto|Cc|CC)\s*:",
    re.IGNORECASE,
)
_DATE_LINE = re.compile(r"^\s*\*?\s*(?:Sent|Date|Enviado(?: el)?|Fecha)\s*:", re.IGNORECASE)
_SIG_DELIM = re.compile(r"^(?:-- |--|—)\s*$")
_MOBILE_SIG = re.compile(
    r"^\s*(?:"
    r"Sent from my \S.*|Sent from (?:Outlook|Mail|Yahoo Mail|Gmail)\b.*|"
    r"Sent with \S.*|Get Outlook for \S.*|Sent via \S.*|"
    r"Enviado desde mi \S.*|Enviado desde (?:Outlook|Correo|Yahoo Mail|Gmail)\b.*|"
    r"Enviado con \S.*|Obtener Outlook para \S.*|Descargar Outlook para \S.*|"
    r"Enviado a través de \S.*"
    r")\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*(?:[*_=-]\s*){3,}$")
_MAX_SIG_LINES = 15


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


# Cheap first test: can this line start any kind of quote header?
_CANDIDATE = re.compile(
    r"\s*(?:-{2}|_{20}|(?:On|El|Am|Le)\s|\*?\s*(?:From|De)\s*:|Begin\s|Inicio\s)",
    re.IGNORECASE,
)


def _quote_header_at(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _CANDIDATE.match(line) is None:
        return False
    if _SEPARATOR.match(line):
        return True
    if _WROTE_START.match(line):
        for span in (1, 2, 3):
            if i + span > len(lines):
                break
            joined = " ".join(part.strip() for part in lines[i : i + span])
            if _WROTE_END.search(lines[i + span - 1]) and _WROTE.match(joined):
                return True
    if _FROM_LINE.match(line):
        following = [ln for ln in lines[i + 1 : i + 6] if ln.strip()][:4]
        has_header = sum(1 for ln in following if _HEADER_LINE.match(ln))
        has_date = any(_DATE_LINE.match(ln) for ln in following)
        if has_header >= 2 or (has_header >= 1 and has_date):
            return True
    return False


def _find_quote_start(lines: list[str]) -> int | None:
    for i in range(len(lines)):
        if _quote_header_at(lines, i):
            return i
    # No header: a trailing block of ">" lines (blank lines allowed) is quoted.
    start: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        if _is_quoted(lines[i]):
            start = i
        elif lines[i].strip():
            break
    return start


def _find_signature_start(lines: list[str]) -> int | None:
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in nonblank[-4:]:
        if _MOBILE_SIG.match(lines[i]):
            return i
    for i, line in enumerate(lines):
        if _SIG_DELIM.match(line) and len(lines) - i - 1 <= _MAX_SIG_LINES:
            # A bare "--" only counts when a short block follows it.
            bare = line.strip() == "--" and not line.startswith("-- ")
            if bare and len([ln for ln in lines[i + 1 :] if ln.strip()]) > 8:
                continue
            return i
    return None


def split_reply(text: str) -> SplitReply:
    """Split a plain-text body into new text, quoted text and signature.

    The quoted part starts at the first reply/forward header or, without one,
    at a trailing block of ``>`` lines; ``>`` lines followed by more of the
    customer's own text (inline answers) stay in the new text. The signature
    is looked for only in the part before the quote.
    """
    lines = text.split("\n")
    quote_start = _find_quote_start(lines)
    # A horizontal rule (Outlook's <hr>, converted) right above belongs to the quote.
    while quote_start and (
        not lines[quote_start - 1].strip() or _RULE.match(lines[quote_start - 1])
    ):
        quote_start -= 1
    head = lines if quote_start is None else lines[:quote_start]
    quoted = "" if quote_start is None else "\n".join(lines[quote_start:]).strip()
    sig_start = _find_signature_start(head)
    signature = ""
    if sig_start is not None:
        signature = "\n".join(head[sig_start:]).strip()
        head = head[:sig_start]
    return SplitReply(
        new_text="\n".join(head).strip(),
        quoted_text=quoted,
        signature=signature,
    )
