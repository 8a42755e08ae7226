"""Public functions of integrations (nothing below calls it: it is the top context)."""
