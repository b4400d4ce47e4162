"""Placeholder: chapter 2 claims (soft labels)."""
