
from .. import schemas
from . import Blueprint, ledger, reads

blp = Blueprint("transactions", __name__, url_prefix="/api/v1/transactions",
                description="Where and how a transaction was committed")


@blp.route("/<txid:transaction_id>", methods=["GET"])
@reads(blp, schemas.TransactionStatus)
def get_transaction(transaction_id):
    """Validation code and block number of a committed transaction"""
    return ledger().transaction_status(transaction_id)
