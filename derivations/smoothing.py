"""Placeholder: filled in by the chapter that owns it."""
__all__: list[str] = []
