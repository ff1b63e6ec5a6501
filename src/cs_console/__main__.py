"""Allow ``python -m cs_console`` (the same entry as the ``cs-console`` script)."""

from __future__ import annotations

from cs_console.launch import main

if __name__ == "__main__":
    main()
