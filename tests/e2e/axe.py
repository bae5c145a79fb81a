"""axe-core (vendored in tests/e2e/vendor/) run on a Playwright page: WCAG 2.x A and AA rules,
and its best practices. `axe_problems` answers one line per critical or serious violation,
naming the rule, its impact and the elements it found (their CSS selectors)."""

from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("critical", "serious")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
    summary: v.nodes.length ? v.nodes[0].failureSummary : '',
  }));
}"""


def axe_violations(page) -> list[dict]:
    """axe's violations on the page as it is now (axe is injected once per document)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the site's CSP (nonces) does not apply.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(_RUN, TAGS)


def axe_problems(page) -> list[str]:
    problems = []
    for v in axe_violations(page):
        if v["impact"] not in BLOCKING:
            continue
        targets = ", ".join(v["targets"][:5]) + (" …" if len(v["targets"]) > 5 else "")
        summary = " ".join(v["summary"].split())[:300]
        problems.append(f"axe {v['id']} ({v['impact']}): {v['help']}: {targets} [{summary}]")
    return problems
