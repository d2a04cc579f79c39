"""The vendored libraries and the site's own script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).parents[3]
#: htmx's own default adds an inline <style>, which the CSP refuses; base.html turns it off so.
HTMX_CONFIG = '{"includeIndicatorStyles": false, "allowEval": false}'


def test_vendored_files_match_their_record():
    """Nobody edited a vendored file by hand (no browser or network needed)."""
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor-assets"), "--check"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def load_htmx(page, *scripts: str) -> None:
    """htmx, configured as base.html configures it, and then ``scripts``, into the page."""
    page.evaluate("""config => {
        const meta = document.createElement("meta");
        meta.name = "htmx-config";
        meta.content = config;
        document.head.append(meta);
    }""", HTMX_CONFIG)
    for script in ("/static/vendor/htmx.org/htmx.min.js", *scripts):
        page.add_script_tag(url=script)


def post_language_with_htmx(page, lang: str) -> None:
    page.evaluate("""lang => new Promise(done => {
        htmx.ajax("POST", "/language", {values: {lang: lang, next: "/sign-in"}, swap: "none"}).then(done, done);
    })""", lang)


def test_htmx_requests_carry_the_csrf_token(page):
    """Every page loads htmx and madoguchi.js, so an htmx POST carries the CSRF token and passes."""
    page.goto("/sign-in")
    page.wait_for_function("() => typeof window.htmx === 'object'")
    post_language_with_htmx(page, "en")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")


#: The smallest diagram with layout (the sample procedures carry no diagram interchange yet).
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="https://madoguchi.example/">
  <bpmn:process id="p">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" name="内容審査"/>
    <bpmn:sequenceFlow id="flow" sourceRef="start" targetRef="review"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="p">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="200" y="78" width="100" height="80"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="flow_di" bpmnElement="flow"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/>
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_the_bpmn_viewer_draws_under_the_content_security_policy(page):
    """The vendored viewer and its CSS work with scripts and styles from 'self' only (the page
    fixture fails the test on any CSP violation)."""
    page.goto("/verify/")
    page.evaluate("""() => {
        for (const name of ["diagram-js.css", "bpmn-js.css"]) {
            const link = document.createElement("link");
            link.rel = "stylesheet";
            link.href = "/static/vendor/bpmn-js/" + name;
            document.head.append(link);
        }
    }""")
    page.add_script_tag(url="/static/vendor/bpmn-js/bpmn-viewer.production.min.js")
    drawn = page.evaluate("""async xml => {
        const box = document.createElement("div");
        document.querySelector("main").append(box);
        const viewer = new BpmnJS({container: box, height: 300});
        const {warnings} = await viewer.importXML(xml);
        return {warnings: warnings.length, review: box.querySelector('[data-element-id="review"]') !== null};
    }""", DIAGRAM)
    assert drawn == {"warnings": 0, "review": True}
    expect(page.get_by_text("内容審査")).to_be_visible()
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the licence's watermark stays shown
