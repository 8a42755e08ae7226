"""What the repository says of itself: the licence pyproject declares is the one it ships."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_pyproject_declares_is_shipped_in_full():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    licence = (ROOT / "LICENSE").read_text()

    assert declared == "MIT"
    assert licence.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in licence
