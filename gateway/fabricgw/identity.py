"""Client identity: an MSP id and an X.509 certificate (PEM)."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from fabric_protos.msp import identities_pb2


@dataclass(frozen=True)
class Identity:
    msp_id: str
    credentials: bytes

    @classmethod
    def from_msp_dir(cls, msp_dir: str, msp_id: str) -> "Identity":
        """Load the certificate from `<msp_dir>/signcerts/*.pem` (exactly one expected)."""
        return cls(msp_id=msp_id, credentials=_read_single(os.path.join(msp_dir, "signcerts"), "*.pem"))

    def serialize(self) -> bytes:
        """The SerializedIdentity bytes Fabric uses as the creator of a request."""
        return identities_pb2.SerializedIdentity(mspid=self.msp_id, id_bytes=self.credentials).SerializeToString()


def _read_single(directory: str, pattern: str) -> bytes:
    paths = sorted(glob.glob(os.path.join(directory, pattern)))
    if len(paths) != 1:
        raise ValueError(f"expected exactly one {pattern} in {directory}, found {len(paths)}")
    with open(paths[0], "rb") as f:
        return f.read()
