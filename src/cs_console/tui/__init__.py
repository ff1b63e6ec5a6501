"""The Textual console: a thin surface over the desk."""
