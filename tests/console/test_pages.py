"""The console's pages as the server sends them: security headers, no inline script or style,
no key anywhere, the language chosen from Accept-Language or the switch, each org's navigation."""

import re

import pytest

from gateway.console import CONTENT_SECURITY_POLICY, i18n

PAGES = ["/console/", "/console/projects", "/console/projects/p-1", "/console/leases",
         "/console/leases/new", "/console/leases/l-1", "/console/reports", "/console/network"]


@pytest.fixture
def lessor(world):
    return world.apps["LessorMSP"].test_client()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_framed_by_nobody_and_runs_only_its_own_scripts(lessor, path):
    response = lessor.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    inline = [attrs for attrs, body in scripts
              if body.strip() and 'type="application/json"' not in attrs]
    assert not inline, inline
    assert all('src="/console/' in attrs for attrs, body in scripts if not body.strip())
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\bon[a-z]+=", html)  # no inline event handlers either


def test_pages_hold_no_key_and_set_no_cookie_without_a_language_choice(world, lessor):
    response = lessor.get("/console/leases", headers={
        "Authorization": f"Bearer {world.key('LessorMSP')}"})
    assert world.key("LessorMSP") not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_the_sign_in_form_posts_rather_than_putting_the_key_in_a_url(lessor):
    html = lessor.get("/console/").get_data(as_text=True)
    form = re.search(r'<form id="sign-in"[^>]*>', html).group(0)
    assert 'method="post"' in form
    assert re.search(r'<input[^>]*name="api_key"[^>]*type="password"', html)


@pytest.mark.parametrize("accept, language", [
    ("zh-HK,zh;q=0.9,en;q=0.5", "zh-Hant"), ("zh-TW", "zh-Hant"), ("zh-Hant-MO", "zh-Hant"),
    ("zh-CN,zh;q=0.9", "zh-Hans"), ("zh", "zh-Hans"), ("fr-FR,en-GB;q=0.8", "en"),
    ("de", "en"), ("", "en"), ("fr, zh-mo;q=0.4", "zh-Hant"),
])
def test_language_from_accept_language(lessor, accept, language):
    html = lessor.get("/console/projects",
                      headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert i18n.catalog(language)["projects.title"] in html


def test_the_switch_wins_over_accept_language_and_is_remembered(lessor):
    response = lessor.get("/console/projects?lang=zh-Hans", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hans">' in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert "console_lang=zh-Hans" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    again = lessor.get("/console/leases", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hans">' in again.get_data(as_text=True)
    unknown = lessor.get("/console/leases?lang=xx", headers={"Accept-Language": "zh-TW"})
    assert '<html lang="zh-Hans">' in unknown.get_data(as_text=True)  # the cookie's choice


def test_every_page_offers_the_three_languages(lessor):
    for path in PAGES:
        html = lessor.get(path).get_data(as_text=True)
        for code, name in i18n.LANGUAGE_NAMES.items():
            assert f'href="?lang={code}"' in html and name in html, (path, code)


def test_every_message_is_translated():
    english = i18n.catalog("en")
    for language in ("zh-Hans", "zh-Hant"):
        catalog = i18n.catalog(language)
        assert catalog.keys() == english.keys()
        for key, text in catalog.items():
            assert re.findall(r"\{\w+\}", text) == re.findall(r"\{\w+\}", english[key]), key
            assert text.strip(), key


@pytest.mark.parametrize("msp_id, pages", [
    ("LessorMSP", ["Project library", "Leases", "New lease", "Emission reports", "Network"]),
    ("RegulatorMSP", ["Project library", "Leases", "Emission reports", "Network"]),
    ("GridMSP", ["Project library", "Emission reports", "Network"]),
    ("HKPartnerMSP", ["Project library", "Network"]),
])
def test_each_org_navigates_to_what_it_may_see(world, msp_id, pages):
    html = world.apps[msp_id].test_client().get("/console/projects").get_data(as_text=True)
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    assert re.findall(r'<a href="/console/[^"]*"[^>]*>([^<]+)</a>', nav) == pages


def test_chart_library_is_served_by_the_gateway(lessor):
    response = lessor.get("/console/vendor/chart.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"Chart" in response.data[:2000]
    assert lessor.get("/console/vendor/left-pad").status_code == 404
