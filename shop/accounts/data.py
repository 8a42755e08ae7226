"""Data that crosses the accounts border."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Customer:
    id: int
    email: str
