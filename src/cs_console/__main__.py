"""Allow ``python -m cs_console``."""

from __future__ import annotations

from cs_console.cli import main

if __name__ == "__main__":
    main()
