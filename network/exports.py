"""An org's exported public definition: what it hands the other orgs, and all they know of it.

The org writes it from its own site into its folder of the exchange (``exchange/<domain>/``):

* ``msp/``: its verifying MSP, as the channel config holds it: the identity CA's and the TLS
  CA's root certificates, the NodeOU config, its CRLs;
* ``orderers/<name>/tls.crt``: each of its orderers' TLS certificate, which the channel config
  names as that Raft consenter's;
* ``definition.json``: its anchor peers, its orderers' endpoints and its peers' endpoints.

Founding the channel, adding an org and dialling another org's peers or orderers read only
this; no other org's site. Nothing in it is secret: a private key never goes here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

from .config import ConfigError, Layout, Org

FORMAT = 1
# Another org's export is its word, not ours: a name becomes a folder under its export, a host
# an endpoint others dial. Neither may reach anywhere else.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")


@dataclasses.dataclass(frozen=True)
class ExportedOrderer:
    name: str
    host: str
    port: int
    tls_cert: Path

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


@dataclasses.dataclass(frozen=True)
class OrgExport:
    """An org's public definition as another org reads it from the exchange."""

    msp_id: str
    msp_dir: Path
    tls_ca: Path
    anchor_peers: tuple[tuple[str, int], ...]
    peers: tuple[str, ...]
    orderers: tuple[ExportedOrderer, ...]


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


def describe(layout: Layout, org: Org) -> OrgExport:
    """What ``org`` exports, from the consortium file (the files named lie in the exchange)."""
    return OrgExport(
        msp_id=org.msp_id,
        msp_dir=layout.exported_msp(org),
        tls_ca=layout.exported_tls_ca(org),
        anchor_peers=(_split(org.anchor_peer.endpoint),),
        peers=tuple(p.endpoint for p in org.peers),
        orderers=tuple(ExportedOrderer(o.name, *_split(o.endpoint), layout.exported_orderer_tls(o))
                       for o in org.orderers))


def _document(export: OrgExport) -> dict:
    return {"format": FORMAT, "msp_id": export.msp_id,
            "anchor_peers": [{"host": h, "port": p} for h, p in export.anchor_peers],
            "peers": list(export.peers),
            "orderers": [{"name": o.name, "host": o.host, "port": o.port}
                         for o in export.orderers]}


def _copy_if_changed(source: Path, target: Path) -> bool:
    if target.exists() and target.read_bytes() == source.read_bytes():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return True


def export(layout: Layout, org: Org) -> bool:
    """Write ``org``'s public definition from its own site into the exchange; True if
    anything changed. Reads nothing outside the org's site."""
    msp = layout.org_msp(org)
    files = {msp / "cacerts" / "ca.pem": layout.exported_msp(org) / "cacerts" / "ca.pem",
             msp / "tlscacerts" / "tlsca.pem": layout.exported_tls_ca(org),
             msp / "config.yaml": layout.exported_msp(org) / "config.yaml"}
    files.update({crl: layout.exported_msp(org) / "crls" / crl.name
                  for crl in sorted((msp / "crls").glob("*.pem"))})
    files.update({layout.node_dir(org, o.name) / "tls" / "server.crt":
                  layout.exported_orderer_tls(o) for o in org.orderers})
    for source in files:
        if not source.exists():
            raise ConfigError(f"{org.msp_id} cannot export its definition: {source} is missing "
                              f"(its site is not initialised: run `python -m network --org "
                              f"{org.msp_id} init`)")
    changed = [_copy_if_changed(source, target) for source, target in files.items()]
    document = json.dumps(_document(describe(layout, org)), indent=2)
    path = layout.exported_definition(org)
    if not path.exists() or path.read_text() != document:
        path.write_text(document)
        changed.append(True)
    return any(changed)


def load(layout: Layout, org: Org) -> OrgExport:
    """``org``'s definition as exported to the exchange; a clear error if it has not been."""
    path = layout.exported_definition(org)
    if not path.exists() or not layout.exported_tls_ca(org).exists():
        raise ConfigError(
            f"{org.msp_id} has not exported its public definition ({layout.export_dir(org)} "
            f"is missing or incomplete): run `python -m network --org {org.msp_id} init` at "
            f"its site and copy its export folder to the same place here")
    try:
        document = json.loads(path.read_text())
        if document.get("format") != FORMAT or document.get("msp_id") != org.msp_id:
            raise ValueError(f"not an export of {org.msp_id} in format {FORMAT}")
        return OrgExport(
            msp_id=org.msp_id,
            msp_dir=layout.exported_msp(org),
            tls_ca=layout.exported_tls_ca(org),
            anchor_peers=tuple(_endpoint(a["host"], a["port"])
                               for a in document["anchor_peers"]),
            peers=tuple(":".join(map(str, _endpoint(*_split(e)))) for e in document["peers"]),
            orderers=tuple(ExportedOrderer(_checked(_NAME, o["name"], "orderer name"),
                                           *_endpoint(o["host"], o["port"]),
                                           layout.export_dir(org) / "orderers" / o["name"]
                                           / "tls.crt")
                           for o in document["orderers"]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{path} is not a usable export of {org.msp_id}: {error}") from None


def _checked(pattern: re.Pattern, value, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or ".." in value:
        raise ValueError(f"{what} {value!r} is not allowed")
    return value


def _endpoint(host, port) -> tuple[str, int]:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError(f"port {port!r} is not a TCP port")
    return _checked(_HOST, host, "host"), port
