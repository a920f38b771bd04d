"""Fabric's binaries, built from the pinned upstream source into a cache outside the repo.

The source is the v3.1.5 release with its Go dependencies vendored (the Go module proxy
refuses Fabric's modules), so the build runs offline. The cache is keyed by the archive's
sha256, so another checkout or a CI run on the same machine reuses the binaries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from .config import REPO_ROOT
from .log import progress

FABRIC_VERSION = "3.1.5"
FABRIC_SHA256 = "a9d41c1bcd902b6ba337c1cc86c199f569712c6a5f9d13818740442fc400ba28"
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "third_party" / f"fabric-v{FABRIC_VERSION}-src.tar.gz"
COMMANDS = ("peer", "orderer", "configtxgen", "configtxlator", "osnadmin")


class BuildError(Exception):
    pass


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("CARBONLEASE_CACHE", Path(base) / "carbonlease"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_key(source: Path) -> str:
    """The binaries' cache key: an archive must match the pinned sha256 and is keyed by it;
    a folder (e.g. a clone of the v3.1.5 tag) is keyed by its path."""
    if source.is_dir():
        if not (source / "cmd" / "peer").is_dir():
            raise BuildError(f"{source} is not a Fabric source tree (no cmd/peer)")
        return "dir-" + hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    if not source.is_file():
        raise BuildError(f"Fabric source not found at {source}; set CARBONLEASE_FABRIC_SOURCE "
                         f"to the v{FABRIC_VERSION} archive or an extracted source folder")
    digest = _sha256(source)
    if digest != FABRIC_SHA256:
        raise BuildError(f"{source} has sha256 {digest}, expected {FABRIC_SHA256} "
                         f"(the unmodified v{FABRIC_VERSION} source)")
    return digest


def _extracted(source: Path, work: Path) -> Path:
    """The source tree to build in: the folder itself, or the archive unpacked under ``work``
    (removed again after the build: ~400 MB that the binaries no longer need)."""
    if source.is_dir():
        return source
    progress(f"extracting {source.name}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tarfile.open(source) as archive:
        archive.extractall(work, filter="data")
    return work / f"fabric-{FABRIC_VERSION}"


def ensure_built(source: Path | None = None) -> Path:
    """Return the folder holding the Fabric binaries (and ``../sampleconfig``), building
    them first if needed. Hashing the archive each time costs ~0.1 s and keeps the key honest."""
    source = Path(os.environ.get("CARBONLEASE_FABRIC_SOURCE", source or DEFAULT_SOURCE))
    out = cache_root() / "fabric" / _cache_key(source)
    bin_dir = out / "bin"
    missing = [c for c in COMMANDS if not (bin_dir / c).exists()]
    if not missing and (out / "sampleconfig").is_dir():
        return bin_dir
    work = cache_root() / "fabric-src"
    tree = _extracted(source, work)
    try:
        _build(tree, bin_dir, missing)
        shutil.copytree(tree / "sampleconfig", out / "sampleconfig", dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return bin_dir


def _build(tree: Path, bin_dir: Path, commands: list[str]) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOFLAGS": "-mod=vendor", "GOPROXY": "off", "CGO_ENABLED": "0"}
    ldflags = f"-X github.com/hyperledger/fabric/common/metadata.Version={FABRIC_VERSION}"
    for i, command in enumerate(commands, 1):
        progress(f"building Fabric {command} ({i}/{len(commands)}; ~70 s for all when cold)")
        started = time.monotonic()
        tmp = bin_dir / f".{command}.tmp"
        result = subprocess.run(["go", "build", "-o", str(tmp), "-ldflags", ldflags,
                                 f"./cmd/{command}"], cwd=tree, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"go build ./cmd/{command} failed:\n{result.stderr[-4000:]}")
        tmp.rename(bin_dir / command)
        progress(f"built {command} in {time.monotonic() - started:.0f} s")
