"""Outside development the KDF may not fall below OWASP's floor for Argon2id: 19 MiB and
two passes, checked exactly at the boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto.kdf import KdfParams
from statements.settings import Settings, SettingsError

SECRET = "s" * 48
PRODUCTION = {
    "SECRET_KEY": SECRET,
    "LOOKUP_PEPPER": SECRET,
    "LOG_ORIGIN": "statements.example.org/log",
    "KDF_MEMORY_KIB": "19456",
    "KDF_ITERATIONS": "2",
}


def test_the_floor_itself_is_accepted(tmp_path: Path) -> None:
    settings = Settings.from_env(PRODUCTION, tmp_path)
    assert settings.kdf == KdfParams(memory_kib=19456, iterations=2, lanes=1)


@pytest.mark.parametrize(("name", "value"), [("KDF_MEMORY_KIB", "19455"), ("KDF_ITERATIONS", "1")])
def test_one_step_below_the_floor_is_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**PRODUCTION, name: value}, tmp_path)
    assert refused.value.name == name
    assert str(refused.value).startswith(f"{name}: must be at least")


def test_development_may_go_below_the_floor(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"APP_ENV": "development", "KDF_MEMORY_KIB": "19455", "KDF_ITERATIONS": "1"}, tmp_path
    )
    assert settings.kdf == KdfParams(memory_kib=19455, iterations=1, lanes=1)
