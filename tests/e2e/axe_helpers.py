"""axe-core in the browser tests: inject the pinned npm build, run it, keep what must fail, explain it.

axe-core comes from npm, pinned in tests/e2e/axe/package-lock.json; scripts/test.sh runs `npm ci`
there. It is injected with `page.evaluate(source)`: that runs through the DevTools protocol, which the
page's Content-Security-Policy does not govern, so the pages are checked under their real policy
(no `bypass_csp`) and the check keeps working if the policy ever drops 'unsafe-inline'."""
import json
import re
import time
import weakref
from functools import cache
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.helpers import ARTIFACTS

AXE_DIR = Path(__file__).resolve().parent / 'axe'
AXE_JS = AXE_DIR / 'node_modules' / 'axe-core' / 'axe.min.js'
REPORTS = ARTIFACTS / 'axe'
# WCAG 2.0 and 2.1, levels A and AA. best-practice rules run too, for the report only: never a failure.
WCAG_TAGS = ('wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa')
RUN_TAGS = (*WCAG_TAGS, 'best-practice')
BLOCKING_IMPACTS = ('critical', 'serious')
IMPACT_ORDER = {'critical': 0, 'serious': 1, 'moderate': 2, 'minor': 3, None: 4}
# iframes=False: the only frame is the licence preview (a PDF in Chromium's viewer), where axe cannot
# answer and would wait for its frame timeout; the <iframe> element itself (its title) is still checked.
# preload=False: axe's preload fetches the stylesheets with XMLHttpRequest, which Quasar's loading bar
# (NiceGUI's default) hijacks: the bar (role=progressbar) would show during the very run and be
# reported. The one rule that needs the stylesheets (css-orientation-lock) runs alone afterwards.
RUN_OPTIONS = {'runOnly': {'type': 'tag', 'values': list(RUN_TAGS)}, 'iframes': False, 'preload': False,
               'rules': {'css-orientation-lock': {'enabled': False}}, 'resultTypes': ['violations', 'incomplete']}
CSS_RUN_OPTIONS = {'runOnly': {'type': 'rule', 'values': ['css-orientation-lock']}, 'iframes': False,
                   'resultTypes': ['violations', 'incomplete']}
# The page is settled: loaded, its socket handshake done (NiceGUI builds and updates over it), no
# finite CSS transition or animation running (a dialog fading in would give half-transparent colours)
# and Quasar's loading bar (shown while an XMLHttpRequest runs, e.g. an upload) gone.
SETTLED = '''() => document.readyState === 'complete' && window.did_handshake === true
    && document.getAnimations().every(a => a.playState !== 'running'
                                         || a.effect?.getComputedTiming().iterations === Infinity)
    && [...document.querySelectorAll('.q-loading-bar')].every(e => getComputedStyle(e).opacity === '0')'''
MISSING = (f'axe-core is not installed: {AXE_JS} is missing.\n'
           f'Run `bash scripts/test.sh` (it installs it) or `cd {AXE_DIR.relative_to(AXE_DIR.parents[2])} && npm ci`.')


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(MISSING)
    return AXE_JS.read_text(encoding='utf-8')


SOCKET_QUIET = 0.2    # seconds without a socket frame: the server has sent what it had, the page answered
_last_frame: 'weakref.WeakKeyDictionary[Page, float]' = weakref.WeakKeyDictionary()


def watch_socket(page: Page) -> Page:
    """Note the time of every WebSocket frame of this page (call before its first navigation)."""
    def mark(*_) -> None:
        _last_frame[page] = time.monotonic()

    def opened(ws) -> None:
        mark()
        ws.on('framesent', mark)
        ws.on('framereceived', mark)
    page.on('websocket', opened)
    return page


def settle(page: Page, timeout: float = 10.0) -> None:
    """Wait until the page is at rest: the pointer off the page (no hover colours), loaded, socket
    handshake done, no transition running, and (for a page under watch_socket) no socket frame for
    SOCKET_QUIET s, so NiceGUI's requests made at connect (e.g. the drawer asking whether it is open)
    are answered before axe keeps the browser busy or the test moves on."""
    page.mouse.move(-1, -1)
    page.wait_for_function(SETTLED, timeout=timeout * 1000)
    if page not in _last_frame:
        return
    deadline = time.monotonic() + timeout
    while (quiet := time.monotonic() - _last_frame[page]) < SOCKET_QUIET and time.monotonic() < deadline:
        page.wait_for_timeout((SOCKET_QUIET - quiet) * 1000 + 10)


def run_axe(page: Page) -> dict:
    """axe.run on the whole document; returns axe's result object (violations, incomplete, …)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate('options => axe.run(document, options)', RUN_OPTIONS)
    css = page.evaluate('options => axe.run(document, options)', CSS_RUN_OPTIONS)
    for kind in ('violations', 'incomplete'):
        results[kind] = results.get(kind, []) + css.get(kind, [])
    _add_context(page, results['violations'])
    return results


# For a selector: the nearest enclosing NiceGUI element (id "c<number>"), its classes and text, which
# tells which component of the page (upload field, menu, header…) an anonymous Quasar node belongs to.
_CONTEXT = r'''selectors => selectors.map(selector => {
    let el = null;
    try { el = document.querySelector(selector); } catch (e) { return null; }
    let owner = el && el.parentElement;
    while (owner && !/^c\d+$/.test(owner.id)) owner = owner.parentElement;
    if (!owner) return null;
    const text = (owner.innerText || '').replace(/\s+/g, ' ').trim();
    const classes = [...owner.classList].filter(c => !c.includes('--')).slice(0, 4);
    return `${owner.tagName.toLowerCase()}#${owner.id}${classes.map(c => '.' + c).join('')}`
        + (text ? ` "${text.length > 60 ? text.slice(0, 59) + '…' : text}"` : '');
})'''


def _add_context(page: Page, violations: list[dict]) -> None:
    """node['within']: the enclosing NiceGUI element of each violating node (plain selectors only)."""
    nodes = [n for v in violations for n in v.get('nodes', [])
             if len(n.get('target', [])) == 1 and isinstance(n['target'][0], str)]
    if not nodes:
        return
    for node, within in zip(nodes, page.evaluate(_CONTEXT, [n['target'][0] for n in nodes]), strict=True):
        if within:
            node['within'] = within


def is_wcag(violation: dict) -> bool:
    return any(tag in WCAG_TAGS for tag in violation.get('tags', []))


def blocking(results: dict) -> list[dict]:
    """The violations that fail the test: a WCAG 2.0/2.1 A/AA rule with impact critical or serious."""
    found = [v for v in results.get('violations', []) if v.get('impact') in BLOCKING_IMPACTS and is_wcag(v)]
    return sorted(found, key=lambda v: (IMPACT_ORDER.get(v.get('impact'), 4), v['id']))


def advisory(results: dict) -> list[dict]:
    """Every other violation (lower impact, or best-practice only): reported, never a failure."""
    failing = {id(v) for v in blocking(results)}
    found = [v for v in results.get('violations', []) if id(v) not in failing]
    return sorted(found, key=lambda v: (IMPACT_ORDER.get(v.get('impact'), 4), v['id']))


def _one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r'\s+', ' ', text or '').strip()
    return text if len(text) <= limit else text[:limit - 1] + '…'


def describe(violations: list[dict], *, examples: int = 3) -> str:
    """Per violation: rule, impact, how many elements, the help text and link, and the first
    `examples` elements (selector, HTML snippet, axe's own summary of what to fix)."""
    lines = []
    for v in violations:
        nodes = v.get('nodes', [])
        lines.append(f'[{v.get("impact")}] {v["id"]} × {len(nodes)}: {v.get("help")}  ({v.get("helpUrl")})')
        for node in nodes[:examples]:
            target = ' >> '.join(' '.join(t) if isinstance(t, list) else str(t) for t in node.get('target', []))
            lines.append(f'    target: {target}')
            lines.append(f'      html: {_one_line(node.get("html", ""))}')
            if within := node.get('within'):
                lines.append(f'    within: {within}')
            if summary := node.get('failureSummary'):   # "Fix any of the following:\n  a\n  b" -> one line
                summary = re.sub(r':?\s*\n\s*', '; ', summary)
                lines.append(f'       fix: {_one_line(summary)}')
        if len(nodes) > examples:
            lines.append(f'    … and {len(nodes) - examples} more (see the JSON report)')
    return '\n'.join(lines)


def write_report(name: str, url: str, results: dict) -> Path:
    """test-artifacts/axe/<name>.json: the page's URL, axe's version and every violation and
    incomplete (needs review) result, with all nodes."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / (re.sub(r'[^\w.-]+', '_', name) + '.json')
    report = {'page': name, 'url': url, 'axe': results.get('testEngine', {}).get('version'),
              'runOnly': list(RUN_TAGS), 'timestamp': results.get('timestamp'),
              'blocking': [v['id'] for v in blocking(results)],
              'violations': results.get('violations', []), 'incomplete': results.get('incomplete', [])}
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding='utf-8')
    return path
