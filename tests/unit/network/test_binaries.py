"""The Fabric binary cache: keyed by the pinned archive, built only when something is missing."""

import pytest

from network import binaries


@pytest.fixture(autouse=True)
def no_source_override(monkeypatch):
    monkeypatch.delenv("CARBONLEASE_FABRIC_SOURCE", raising=False)


def test_an_archive_other_than_the_pinned_one_is_refused(tmp_path):
    fake = tmp_path / "fabric.tar.gz"
    fake.write_bytes(b"not fabric")
    with pytest.raises(binaries.BuildError, match="expected " + binaries.FABRIC_SHA256):
        binaries.ensure_built(fake)


def test_a_missing_source_names_the_setting(tmp_path):
    with pytest.raises(binaries.BuildError, match="CARBONLEASE_FABRIC_SOURCE"):
        binaries.ensure_built(tmp_path / "nowhere.tar.gz")


def test_cached_binaries_are_used_without_building(tmp_path, monkeypatch):
    source = tmp_path / "fabric"
    (source / "cmd" / "peer").mkdir(parents=True)
    monkeypatch.setenv("CARBONLEASE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "cache" / "fabric" / binaries._cache_key(source)
    for command in binaries.COMMANDS:
        (out / "bin").mkdir(parents=True, exist_ok=True)
        (out / "bin" / command).write_text("")
    (out / "sampleconfig").mkdir()
    monkeypatch.setattr(binaries, "_build", lambda *a: pytest.fail("built again"))
    assert binaries.ensure_built(source) == out / "bin"
    assert not (tmp_path / "cache" / "fabric-src").exists()  # nothing was extracted
