"""Importing this package registers every chapter's claims, in note order."""
from . import ch1_hard_labels  # noqa: F401
