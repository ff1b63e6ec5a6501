"""cs-console: a keyboard-first customer-service console for small online shops."""

from __future__ import annotations

__version__ = "0.1.0"
