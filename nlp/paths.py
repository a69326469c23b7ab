"""Where the package's shipped files live."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
MODEL_DIR = PACKAGE_DIR / "model"
DEFAULT_MODEL_PATH = MODEL_DIR / "model.json"
DEFAULT_RULES_PATH = PACKAGE_DIR / "rules.toml"
DATA_DIR = PACKAGE_DIR / "data"
TRAIN_DIR = DATA_DIR / "train"
HELDOUT_DIR = DATA_DIR / "heldout"
HELDOUT_FORMAL_DIR = DATA_DIR / "heldout_formal"  # second held-out set: letters, hotline orders, reports


def resource_text(name: str) -> str:
    return (RESOURCES_DIR / name).read_text(encoding="utf-8")
