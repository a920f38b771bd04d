
from .. import schemas
from . import EMISSION, Blueprint, commit, query, reads, writes

blp = Blueprint("meter-readings", __name__, url_prefix="/api/v1/meter-readings",
                description="Metered electricity per facility and period (GridMSP writes)")


@blp.route("", methods=["POST"])
@writes(blp, schemas.MeterReadingInput, schemas.MeterReading)
def submit_meter_reading(reading):
    """Submit a metered kWh reading (emission:SubmitMeterReading)"""
    return commit(EMISSION, "SubmitMeterReading", reading)


@blp.route("/<id:reading_id>", methods=["GET"])
@reads(blp, schemas.MeterReading)
def get_meter_reading(reading_id):
    """One meter reading (emission:GetMeterReading)"""
    return query(EMISSION, "GetMeterReading", reading_id)
