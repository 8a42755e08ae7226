"""The public functions of this context (see its README)."""
