"""The web console: pages for the people of the gateway's org, served by the same app.

Pages are plain HTML rendered in the reader's language; everything they show or change goes
through the REST API under ``/api/v1``, called by the page's script with the API key the person
signed in with. The key lives in the tab's ``sessionStorage`` and travels only in the
``Authorization`` header (never in a cookie or a URL), so a page on another site cannot make the
browser act with it: no CSRF to guard against. The pages hold no data of their own, which is why
they need no key to load.
"""

from __future__ import annotations

import json
from pathlib import Path

import flask
import markupsafe

from ..api.schemas import CATEGORIES, LEASE_STATUSES, REPORT_STATUSES
from . import i18n

# Front-end libraries come from npm (gateway/static/package.json), installed by scripts/bootstrap
# and served from here: no CDN at run time.
NODE_MODULES = Path(__file__).resolve().parents[1] / "static" / "node_modules"
VENDOR_FILES = {"chart.js": NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js"}

LANGUAGE_COOKIE = "console_lang"

# Scripts and styles from this origin only (no inline script or style attribute), data only
# from the same origin's API, never framed.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Pages in the navigation, and the orgs whose people use them (the others can still open them).
PAGES = (
    ("projects", "nav.projects", None),
    ("leases", "nav.leases", ("LessorMSP", "RegulatorMSP")),
    ("new_lease", "nav.new_lease", ("LessorMSP",)),
    ("reports", "nav.reports", ("LessorMSP", "GridMSP", "RegulatorMSP")),
    ("network", "nav.network", None),
)

blp = flask.Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                      static_folder="static", static_url_path="/static")


def _language() -> str:
    """The switch's choice (this request's ``?lang=``, else the remembered one), else the
    browser's Accept-Language."""
    for chosen in (flask.request.args.get("lang"), flask.request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in i18n.LANGUAGES:
            return chosen
    return i18n.negotiate(flask.request.accept_languages)


def _msp_id() -> str | None:
    return flask.current_app.extensions["carbonlease"].ledger.msp_id


def _page(template: str, page: str, *, script: str | None = None, **context):
    """Render a page; ``page`` is its place in the navigation, ``script`` its module
    (static/js/<script>.js, default ``page``)."""
    language = _language()
    messages = i18n.catalog(language)
    msp_id = _msp_id()

    def t(key: str, **values) -> str:
        return messages[key].format(**values) if values else messages[key]

    # What the page's script needs besides the messages: who it speaks for, in which language.
    settings = {"msp_id": msp_id, "language": language, "action_orgs": i18n.ACTION_ORGS}
    nav = [(endpoint, t(label)) for endpoint, label, orgs in PAGES
           if orgs is None or msp_id in orgs]
    response = flask.make_response(flask.render_template(
        f"console/{template}", t=t, language=language, languages=i18n.LANGUAGE_NAMES,
        msp_id=msp_id, script_name=script or page,
        org_name=messages.get(f"org.{msp_id}", msp_id), nav=nav, page=page, may=lambda action: msp_id in i18n.ACTION_ORGS[action],
        only=lambda action: _only(t, action),
        # A JSON data block is not script: the CSP does not need to allow it. Escaping '<'
        # keeps a '</script>' inside a value from ending the block.
        page_data=markupsafe.Markup(json.dumps({"settings": settings, "messages": messages},
                                               ensure_ascii=False).replace("<", "\\u003c")),
        **context))
    if flask.request.args.get("lang") == language:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600,
                            path=blp.url_prefix, httponly=True, samesite="Strict")
    return response


def _only(t, action: str) -> str:
    return t("action.only", orgs=t("or").join(t(f"org.{org}") for org in i18n.ACTION_ORGS[action]))


@blp.after_request
def _security_headers(response: flask.Response) -> flask.Response:
    response.headers.update(SECURITY_HEADERS)
    # Pages differ by language; nothing here is personal, but keep shared caches honest.
    response.headers.add("Vary", "Accept-Language, Cookie")
    return response


@blp.get("/")
def sign_in():
    return _page("sign_in.html", "sign_in")


@blp.get("/projects")
def projects():
    return _page("projects.html", "projects", categories=CATEGORIES, owners=i18n.ORGS)


@blp.get("/projects/<id:project_id>")
def project(project_id):
    return _page("project.html", "projects", script="project", project_id=project_id)


@blp.get("/leases")
def leases():
    return _page("leases.html", "leases", statuses=LEASE_STATUSES)


@blp.get("/leases/new")
def new_lease():
    return _page("new_lease.html", "new_lease")


@blp.get("/leases/<id:lease_id>")
def lease(lease_id):
    return _page("lease.html", "leases", script="lease", lease_id=lease_id)


@blp.get("/reports")
def reports():
    return _page("reports.html", "reports", statuses=REPORT_STATUSES)


@blp.get("/network")
def network():
    return _page("network.html", "network")


@blp.get("/vendor/<name>")
def vendor(name):
    path = VENDOR_FILES.get(name)
    if path is None or not path.is_file():
        flask.abort(404)
    return flask.send_file(path, mimetype="text/javascript", max_age=3600)

