
from .. import schemas
from . import LEASE, Blueprint, commit, query, reads, writes

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects",
                description="The shared Greater Bay Area green-project library "
                            "(LessorMSP and partners write)")


@blp.route("", methods=["POST"])
@writes(blp, schemas.ProjectInput, schemas.Project)
def register_project(project):
    """Register a green project (lease:RegisterProject)"""
    return commit(LEASE, "RegisterProject", project)


@blp.route("", methods=["GET"])
@reads(blp, schemas.page_of(schemas.Project), query_args=schemas.PageQuery)
def list_projects(page):
    """All projects, a page at a time (lease:ListProjects)"""
    return query(LEASE, "ListProjects", str(page["page_size"]), page["bookmark"])


@blp.route("/<id:project_id>", methods=["GET"])
@reads(blp, schemas.Project)
def get_project(project_id):
    """One project (lease:GetProject)"""
    return query(LEASE, "GetProject", project_id)


@blp.route("/<id:project_id>/interest", methods=["POST"])
@writes(blp, schemas.InterestInput, schemas.Interest)
def express_interest(interest, project_id):
    """A partner's co-financing interest; a repeat replaces it (lease:ExpressInterest)"""
    return commit(LEASE, "ExpressInterest", project_id, interest)


@blp.route("/<id:project_id>/interests", methods=["GET"])
@reads(blp, schemas.Interests)
def list_interests(project_id):
    """Every partner's interest in a project (lease:ListInterests)"""
    return {"interests": query(LEASE, "ListInterests", project_id)}
