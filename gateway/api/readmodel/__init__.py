"""The off-chain read model: filtered, paged reads of projects, emission reports and leases.

The chaincodes' own reads can only page by key; questions like "every verified report of a
lessee in 2025" need an index. The gateway builds one in its own database from the chaincode
events of its org's peer (``listener``), one table per record kind plus a checkpoint per
chaincode (``store``). Each event is applied in ONE database transaction together with the
checkpoint that records it, so a crash or restart neither loses nor repeats an event.
"""

from .listener import Listener
from .store import CHAINCODES, Checkpoint, ReadModel

__all__ = ["CHAINCODES", "Checkpoint", "Listener", "ReadModel"]
