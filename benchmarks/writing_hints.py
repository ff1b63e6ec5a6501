"""Speed of the writing assistant.

Prints, per language, the first-call time (the dictionary loads) and the
per-call time of ``lint_reply`` on a typical reply, with and without spelling
mistakes, beside two baselines measured in the same run: the style hints alone
(spelling off), and the ``pyspellchecker`` frequency dictionary instead of
Hunspell (load time and per-call time).

Every run starts in a fresh interpreter so that "first call" includes loading.

Usage: python benchmarks/writing_hints.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, statistics, sys, time
from cs_console.desk.writing import ALL_CODES, WritingSettings, lint_reply
from cs_console.desk.writing import spelling as sp

language, mode = sys.argv[1], sys.argv[2]
REPLIES = {
    "es": (
        "Hola, Ana:\n\nGracias por escribirnos. Tu pedido 12345 salió ayer de nuestro almacén "
        "y llegará el jueves.\n\nTe enviamos el enlace de seguimiento por correo para que "
        "puedas seguirlo.\n\nUn saludo,\nLuis",
        "Hola, Ana:\n\nGracias por escribirnos. Tu pedio 12345 salio ayer de nuestro almasen "
        "y llegara el jueves.\n\nTe enviamos el enlaze de seguimiento porfavor.\n\nUn saludo,\nLuis",
    ),
    "en": (
        "Hi Tom,\n\nThank you for writing to us. Your order 12345 left our warehouse yesterday "
        "and arrives on Thursday.\n\nWe have emailed you the tracking link so you can follow "
        "it.\n\nBest regards,\nLuis",
        "Hi Tom,\n\nThank you for writting to us. Your order 12345 left our warehuose yesterday "
        "and arives on thursday.\n\nWe have emailed you the traking link untill then.\n\nBest regards,\nLuis",
    ),
}
clean, typos = REPLIES[language]
settings = WritingSettings()
if mode == "style-only":
    settings = WritingSettings(enabled=ALL_CODES - {"spelling"})
if mode == "pyspellchecker":
    # No Hunspell folder to search: the checker falls back to pyspellchecker.
    import os
    sp.DEFAULT_DICTIONARY_DIRS = ()
    os.environ.pop("CS_CONSOLE_HUNSPELL_DIRS", None)

kwargs = dict(language=language, customer_name="Ana" if language == "es" else "Tom",
              customer_message="¿Dónde está mi pedido?" if language == "es" else "Where is my order?",
              settings=settings)
start = time.perf_counter()
lint_reply(clean, **kwargs)
first = time.perf_counter() - start

def per_call(text):
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        lint_reply(text, **kwargs)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)

clean_call = per_call(clean)
# Fresh words each time would defeat the suggestion cache; measure the first
# lint of the text with typos separately from repeated calls.
t = time.perf_counter()
hints = lint_reply(typos, **kwargs)
typos_first = time.perf_counter() - t
typos_call = per_call(typos)
backend = sp.get_checker(language).backend_name if mode != "style-only" else "-"
flagged = [typos[h.start:h.end] for h in hints if h.code == "spelling"]
print(json.dumps({"first": first, "clean": clean_call, "typos_first": typos_first,
                  "typos": typos_call, "backend": backend, "flagged": flagged}))
"""


def run(language: str, mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, language, mode],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    header = (
        f"{'mode':<16}{'lang':<6}{'backend':<28}{'first call ms':>14}"
        f"{'clean ms':>10}{'typos 1st ms':>14}{'typos ms':>10}  flagged"
    )
    print(header)
    for mode in ("hunspell", "pyspellchecker", "style-only"):
        for language in ("es", "en"):
            r = run(language, mode)
            print(
                f"{mode:<16}{language:<6}{r['backend']!s:<28}"
                f"{float(r['first']) * 1000:>14.0f}{float(r['clean']) * 1000:>10.2f}"
                f"{float(r['typos_first']) * 1000:>14.1f}{float(r['typos']) * 1000:>10.2f}"
                f"  {', '.join(r['flagged'])}"  # type: ignore[arg-type]
            )


if __name__ == "__main__":
    main()
