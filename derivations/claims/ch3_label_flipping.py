"""Placeholder: chapter 3 claims (label flipping)."""
