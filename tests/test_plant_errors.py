"""bench/plant_errors.py's curated wrong statements still name code that exists (each old text occurs once)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("plant_errors", ROOT / "bench" / "plant_errors.py")
plant_errors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plant_errors)


@pytest.mark.parametrize("rel, old, new, what", plant_errors.CURATED, ids=[c[3] for c in plant_errors.CURATED])
def test_curated_edit_applies_once(rel, old, new, what):
    src = (ROOT / rel).read_text()
    assert src.count(old) == 1, f"{what}: {old!r} must occur exactly once in {rel} (update bench/plant_errors.py)"
    assert old != new
