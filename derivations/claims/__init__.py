"""Importing this package registers every chapter's claims, in note order."""
from . import ch1_hard_labels, ch2_soft_labels, ch3_label_flipping  # noqa: F401
