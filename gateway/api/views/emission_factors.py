
from .. import schemas
from . import EMISSION, Blueprint, commit, query, reads, writes

blp = Blueprint("emission-factors", __name__, url_prefix="/api/v1/emission-factors",
                description="Grid emission factors per region and year (RegulatorMSP writes)")


@blp.route("", methods=["POST"])
@writes(blp, schemas.FactorInput, schemas.Factor)
def publish_factor(factor):
    """Publish, or supersede, the factor of a region and year (emission:PublishFactor)"""
    return commit(EMISSION, "PublishFactor", factor)


@blp.route("/<id:region>/<int(min=1900,max=9999):year>", methods=["GET"])
@reads(blp, schemas.Factor)
def get_factor(region, year):
    """The current factor of a region and year, with earlier versions (emission:GetFactor)"""
    return query(EMISSION, "GetFactor", region, str(year))
