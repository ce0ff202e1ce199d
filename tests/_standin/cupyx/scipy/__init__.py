"""cupyx.scipy."""
