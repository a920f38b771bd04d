"""Fabric's and Fabric CA's binaries, built from the pinned upstream sources into a cache
outside the repo.

Both sources are releases with their Go dependencies vendored (the Go module proxy refuses
Hyperledger's modules), so the builds run offline. Each cache is keyed by its archive's sha256,
so another checkout or a CI run on the same machine reuses the binaries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from .config import REPO_ROOT
from .log import progress

THIRD_PARTY = REPO_ROOT.parent / "shared" / "third_party"


class BuildError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Release:
    """A pinned upstream source release and the commands built from it."""

    name: str            # cache folder name and log label
    version: str
    sha256: str
    archive: str         # file name under the third-party folder
    top_folder: str      # the archive's single top folder
    commands: tuple[str, ...]
    source_env: str      # environment variable naming another archive or source folder
    marker: str          # a path that only a source tree of this project has
    ldflags: str = ""
    cgo: bool = False
    cold_build: str = ""
    extra_folders: tuple[str, ...] = ()  # copied from the tree next to bin/

    @property
    def default_source(self) -> Path:
        return THIRD_PARTY / self.archive


FABRIC = Release(
    name="fabric", version="3.1.5",
    sha256="a9d41c1bcd902b6ba337c1cc86c199f569712c6a5f9d13818740442fc400ba28",
    archive="fabric-v3.1.5-src.tar.gz", top_folder="fabric-3.1.5",
    commands=("peer", "orderer", "configtxgen", "configtxlator", "osnadmin"),
    source_env="CARBONLEASE_FABRIC_SOURCE", marker="cmd/peer",
    ldflags="-X github.com/hyperledger/fabric/common/metadata.Version=3.1.5",
    cold_build="~70 s for all when cold", extra_folders=("sampleconfig",))

# Fabric CA's SQLite driver is cgo: the build needs a C compiler, and takes ~2.5 min cold.
FABRIC_CA = Release(
    name="fabric-ca", version="1.5.21",
    sha256="7ecaca58c330b60358e93f6233106c1d451a791b51c0df669ea336419081bd2a",
    archive="fabric-ca-v1.5.21-src.tar.gz", top_folder="fabric-ca-1.5.21",
    commands=("fabric-ca-server", "fabric-ca-client"),
    source_env="CARBONLEASE_FABRIC_CA_SOURCE", marker="cmd/fabric-ca-server",
    cgo=True, cold_build="~2.5 min for both when cold")

# Kept as module names: the Fabric release is the one most callers mean.
FABRIC_VERSION = FABRIC.version
FABRIC_SHA256 = FABRIC.sha256
COMMANDS = FABRIC.commands


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("CARBONLEASE_CACHE", Path(base) / "carbonlease"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_key(source: Path, release: Release = FABRIC) -> str:
    """The binaries' cache key: an archive must match the pinned sha256 and is keyed by it;
    a folder (e.g. a clone of the release tag) is keyed by its path."""
    if source.is_dir():
        if not (source / release.marker).is_dir():
            raise BuildError(f"{source} is not a {release.name} source tree (no {release.marker})")
        return "dir-" + hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    if not source.is_file():
        raise BuildError(f"{release.name} source not found at {source}; set {release.source_env} "
                         f"to the v{release.version} archive or an extracted source folder")
    digest = _sha256(source)
    if digest != release.sha256:
        raise BuildError(f"{source} has sha256 {digest}, expected {release.sha256} "
                         f"(the unmodified {release.name} v{release.version} source)")
    return digest


def _extracted(source: Path, work: Path, release: Release) -> Path:
    """The source tree to build in: the folder itself, or the archive unpacked under ``work``
    (removed again after the build: the binaries no longer need it)."""
    if source.is_dir():
        return source
    progress(f"extracting {source.name}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tarfile.open(source) as archive:
        archive.extractall(work, filter="data")
    return work / release.top_folder


def ensure_built(source: Path | None = None, release: Release = FABRIC) -> Path:
    """Return the folder holding the release's binaries (and its extra folders next to it,
    e.g. Fabric's ``../sampleconfig``), building them first if needed. Hashing the archive
    each time costs ~0.1 s and keeps the key honest."""
    source = Path(os.environ.get(release.source_env, source or release.default_source))
    out = cache_root() / release.name / _cache_key(source, release)
    bin_dir = out / "bin"
    missing = [c for c in release.commands if not (bin_dir / c).exists()]
    if not missing and all((out / f).is_dir() for f in release.extra_folders):
        return bin_dir
    work = cache_root() / f"{release.name}-src"
    tree = _extracted(source, work, release)
    try:
        _build(tree, bin_dir, missing, release)
        for folder in release.extra_folders:
            shutil.copytree(tree / folder, out / folder, dirs_exist_ok=True)
    finally:
        if not source.is_dir():
            shutil.rmtree(work, ignore_errors=True)
    return bin_dir


def ensure_ca_built(source: Path | None = None) -> Path:
    return ensure_built(source, FABRIC_CA)


def _build(tree: Path, bin_dir: Path, commands: list[str], release: Release = FABRIC) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOFLAGS": "-mod=vendor", "GOPROXY": "off",
           "CGO_ENABLED": "1" if release.cgo else "0"}
    for i, command in enumerate(commands, 1):
        progress(f"building {release.name} {command} ({i}/{len(commands)}; "
                 f"{release.cold_build})")
        started = time.monotonic()
        tmp = bin_dir / f".{command}.tmp"
        result = subprocess.run(["go", "build", "-o", str(tmp), "-ldflags", release.ldflags,
                                 f"./cmd/{command}"], cwd=tree, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"go build ./cmd/{command} failed:\n{result.stderr[-4000:]}")
        tmp.rename(bin_dir / command)
        progress(f"built {command} in {time.monotonic() - started:.0f} s")
