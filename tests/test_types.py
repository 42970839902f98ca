"""``mypy --strict`` passes on guiders_lab/, with the configuration in pyproject.toml.

Every subpackage is checked strictly (only third-party modules without types are listed
there). A cold run takes some 20 s on CI's machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the config's ``files`` and the cache are relative to it
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy found problems:\n{stdout}{stderr}"
    assert stdout.startswith("Success: no issues found"), stdout
