"""The off-chain read model: filtered, paged reads of projects, emission reports and leases.

The chaincodes' own reads can only page by key; questions like "every verified report of a
lessee in 2025" need an index. Each gateway org keeps one in its own database, fed from the
chaincode events of its org's peer:

* ``store``: the tables (one per record kind, a checkpoint per chaincode, dead letters,
  heartbeats), the transactions that record an event, and the paged queries;
* ``projections``: chaincode event -> rows, one function per event kind, every value checked;
* ``follower``: the process that follows the event streams (``python -m
  gateway.api.readmodel.follower``).

The events of a block are recorded in ONE database transaction together with the checkpoint,
so a crash or restart neither loses nor repeats an event; one that cannot be applied is kept
as a dead letter.
The web app only reads (``ReadModel``); it never imports the follower.
"""

from .store import CHAINCODES, Checkpoint, ReadModel

__all__ = ["CHAINCODES", "Checkpoint", "ReadModel"]
