"""Layout checks for the browser tests at a given viewport (phone, desktop).

A `LayoutWalk` measures at every step, in the browser (and takes a numbered full-page screenshot of the
step: of every step when GLRC_LAYOUT_SHOTS=1 — the default outside CI — else of the steps with a problem):
- the page itself does not scroll sideways (documentElement/body scrollWidth ≤ the viewport width,
  and a phone never zooms out: window.innerWidth stays the viewport width);
- nothing visible sticks out of the viewport (outermost offenders are named with their edges);
- no text is cut off (an element whose own text overflows its clipped box, e.g. an ellipsis label);
- no text is squeezed to one or two characters a line (a too narrow table column or label);
- no short label (≤ 8 characters, e.g. 单位类型, 详情) is broken with one character alone on a line;
- no two texts of the same layer are drawn over each other (a label over a value, a hint over a label);
- nothing sticks out of the white card it sits in;
- a table that scrolls inside its box leaves a usable window (≥ 120 px or 35 %) between its sticky
  name and 操作 columns for the other columns;
- each of the step's key controls lies inside the viewport horizontally, is not clipped by a scrolling
  or hidden-overflow ancestor (a table cell scrolled out of its container counts as cut off), its
  field label (Quasar .q-field__label) is whole, and it is not covered by something else (a drawer,
  a backdrop) at its centre.

Layout problems are collected, not raised at once, so one run shows every step of a walk; the
test fails at the end with the whole list (`finish()`). Functional steps stay ordinary expects."""
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e import helpers

LAYOUT_DIR = helpers.ARTIFACTS / 'layout'
# a full-page screenshot of every step is for people looking at the pages; CI keeps those of failing steps
ALL_SHOTS = os.environ.get('GLRC_LAYOUT_SHOTS', '0' if os.environ.get('CI') == 'true' else '1') == '1'
TOLERANCE = 1.0  # px: sub-pixel rounding of borders and transforms
MIN_TABLE_WINDOW = 120  # px: the least room a scrolling table leaves between its sticky columns

# Everything about the page at once. Elements in a closed drawer (moved off-screen by Quasar's
# transform) and Quasar notifications are left out.
_PAGE_JS = r'''
(vw) => {
  // visible text without icon ligature names (arrow_upward, account_circle …)
  const textOf = (el) => {
    let text = el.innerText || '';
    for (const icon of el.querySelectorAll('.q-icon, .material-icons')) text = text.replace(icon.innerText, '');
    return text.trim();
  };
  const isIcon = (el) => !!el.closest('.q-icon, .material-icons');
  const describe = (el) => {
    const cls = [...el.classList].filter(c => !c.startsWith('nicegui-')).slice(0, 3).join('.');
    let text = (textOf(el) || el.getAttribute('aria-label') || el.getAttribute('title') || '').trim();
    text = text.replace(/\s+/g, ' ').slice(0, 30);
    return el.tagName.toLowerCase() + (cls ? '.' + cls : '') + (text ? ` "${text}"` : '');
  };
  const closedDrawer = (el) => {
    const aside = el.closest('aside.q-drawer');
    if (!aside) return false;
    const r = aside.getBoundingClientRect();
    return r.right <= 1 || r.left >= vw - 1;
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.display === 'none' || parseFloat(cs.opacity) === 0) return false;
    if (el.closest('.q-notifications')) return false;
    if (el.closest('.q-loading-bar')) return false;   // Quasar's request progress bar: transient, slides in from x<0
    return !closedDrawer(el);
  };
  // horizontal clip of el by its ancestors' overflow (a table's scroll container, a card with overflow hidden)
  const clip = (el) => {
    let left = -1e9, right = 1e9;
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX !== 'visible') {
        const ar = a.getBoundingClientRect();
        left = Math.max(left, ar.left); right = Math.min(right, ar.right);
      }
      if (cs.position === 'fixed') break;
    }
    return [left, right];
  };
  const all = [...document.body.querySelectorAll('*')].filter(el => !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName));
  const visible = all.filter(shown);

  // 1. what sticks out of the viewport (its visible part, after its ancestors' clipping)
  const sticking = new Set();
  const outside = [];
  for (const el of visible) {
    const r = el.getBoundingClientRect();
    const [cl, cr] = clip(el);
    const left = Math.max(r.left, cl), right = Math.min(r.right, cr);
    if (right - left <= 0) continue;
    if (left < -1 || right > vw + 1) {
      sticking.add(el);
      if (!sticking.has(el.parentElement))
        outside.push({what: describe(el), left: Math.round(left), right: Math.round(right)});
    }
  }

  // 2. text cut off: an element's own text wider than its box while its overflow clips (ellipsis, hidden)
  const ownText = (el) => isIcon(el) ? [] : [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
  const cut = [];
  for (const el of visible) {
    if (!ownText(el).length) continue;
    const cs = getComputedStyle(el);
    if (cs.overflowX === 'visible' && cs.textOverflow !== 'ellipsis') continue;
    if (el.scrollWidth > el.clientWidth + 1)
      cut.push({what: describe(el), needs: el.scrollWidth, has: el.clientWidth});
  }

  // 3. text squeezed to one or two characters a line (a too narrow column or label)
  const squeezed = [], broken = [];
  for (const el of visible) {
    const nodes = ownText(el);
    if (!nodes.length) continue;
    const chars = nodes.map(n => n.textContent.replace(/\s+/g, '')).join('').length;
    if (chars < 2) continue;
    const tops = new Set();
    for (const n of nodes) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
    }
    const lines = tops.size;
    const text = nodes.map(n => n.textContent).join('').trim();
    if ((lines >= 2 && chars / lines <= 1.5) || (lines >= 3 && chars / lines <= 2.5))
      squeezed.push({what: describe(el), lines, chars, width: Math.round(el.getBoundingClientRect().width)});
    else if (lines >= 2 && chars <= 8 && !/\s/.test(text)) {
      // a short label (单位类型, 详情) broken so that one character stands alone on a line (单位类 / 型)
      const perLine = new Map();
      for (const n of nodes) {
        for (let i = 0; i < n.textContent.length; i++) {
          if (!n.textContent[i].trim()) continue;
          const range = document.createRange();
          range.setStart(n, i); range.setEnd(n, i + 1);
          const rect = range.getClientRects()[0];
          if (rect) perLine.set(Math.round(rect.top), (perLine.get(Math.round(rect.top)) || 0) + 1);
        }
      }
      if ([...perLine.values()].some(count => count === 1))
        broken.push({what: describe(el), lines, chars, width: Math.round(el.getBoundingClientRect().width),
                     split: [...perLine.values()].join('+')});
    }
  }

  // 5. sticking out of the card it sits in (a field wider than the white card)
  const outOfCard = [], outOfCardSet = new Set();
  for (const el of visible) {
    const card = el.parentElement && el.parentElement.closest('.glrc-card, .q-card');
    if (!card) continue;
    const r = el.getBoundingClientRect(), cr = card.getBoundingClientRect();
    const [cl, crr] = clip(el);
    const left = Math.max(r.left, cl), right = Math.min(r.right, crr);
    if (right - left <= 0) continue;
    if (left < cr.left - 1 || right > cr.right + 1) {
      outOfCardSet.add(el);
      if (!outOfCardSet.has(el.parentElement))
        outOfCard.push({what: describe(el), left: Math.round(left), right: Math.round(right),
                        cardLeft: Math.round(cr.left), cardRight: Math.round(cr.right)});
    }
  }

  // 6. a table scrolling inside its box: how wide is the window between its sticky columns?
  const tables = [];
  for (const box of document.querySelectorAll('.q-table__middle')) {
    if (!shown(box) || box.scrollWidth <= box.clientWidth + 1) continue;
    const width = box.clientWidth;
    let left = 0, right = 0;
    const stuck = [];
    for (const th of box.querySelectorAll('thead tr:first-child > th')) {
      const cs = getComputedStyle(th);
      if (cs.position !== 'sticky') continue;
      const w = th.getBoundingClientRect().width;
      stuck.push(textOf(th) || '(empty)');
      if (cs.left !== 'auto') left = Math.max(left, parseFloat(cs.left) + w);
      else if (cs.right !== 'auto') right = Math.max(right, parseFloat(cs.right) + w);
    }
    const headers = [...box.querySelectorAll('thead tr:first-child > th')].filter(th => getComputedStyle(th).position !== 'sticky')
      .map(textOf).filter(t => t);
    tables.push({width, scrollWidth: box.scrollWidth, left: Math.round(left), right: Math.round(right),
                 window: Math.round(width - left - right), stuck, headers});
  }

  // 4. texts drawn over each other (a label over a value, a hint running into the next field's label);
  //    a dialog, menu or notification lies over the page on purpose, so only texts of one layer are compared
  //    (sticky table cells too: the scrolled columns pass under them)
  const layer = (el) => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      if (a.matches('.q-dialog, .q-menu, .q-notifications, aside.q-drawer, .q-header')) return a;
      if (getComputedStyle(a).position === 'sticky') return a;
    }
    return document.body;
  };
  // the part of a text line that is drawn: clipped by the element's own overflow and its ancestors'
  const drawn = (el, rect) => {
    let [left, right] = clip(el);
    let top = -1e9, bottom = 1e9;
    if (getComputedStyle(el).overflowX !== 'visible') {
      const er = el.getBoundingClientRect();
      left = Math.max(left, er.left); right = Math.min(right, er.right);
      top = er.top; bottom = er.bottom;
    }
    return {left: Math.max(rect.left, left), right: Math.min(rect.right, right),
            top: Math.max(rect.top, top), bottom: Math.min(rect.bottom, bottom)};
  };
  const boxes = [];
  for (const el of visible) {
    const nodes = ownText(el);
    if (!nodes.length) continue;
    for (const n of nodes) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const rect of range.getClientRects()) {
        const d = drawn(el, rect);
        if (d.right - d.left > 0 && d.bottom - d.top > 0) boxes.push({el, rect: d});
      }
    }
  }
  const overlaps = [];
  const seen = new Set();
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.el === b.el || a.el.contains(b.el) || b.el.contains(a.el) || layer(a.el) !== layer(b.el)) continue;
      const w = Math.min(a.rect.right, b.rect.right) - Math.max(a.rect.left, b.rect.left);
      const h = Math.min(a.rect.bottom, b.rect.bottom) - Math.max(a.rect.top, b.rect.top);
      // line boxes are taller than their glyphs: count an overlap only past 40 % of the smaller line
      const minH = Math.min(a.rect.bottom - a.rect.top, b.rect.bottom - b.rect.top);
      if (w > 4 && h > Math.max(4, 0.4 * minH)) {
        const key = describe(a.el) + ' / ' + describe(b.el);
        if (!seen.has(key)) { seen.add(key); overlaps.push({a: describe(a.el), b: describe(b.el), w: Math.round(w), h: Math.round(h)}); }
      }
    }
  }

  return {
    overlaps: overlaps.slice(0, 8), overlapCount: overlaps.length,
    broken: broken.slice(0, 8), brokenCount: broken.length,
    outOfCard: outOfCard.slice(0, 8), outOfCardCount: outOfCard.length, tables,
    innerWidth: window.innerWidth,
    clientWidth: document.documentElement.clientWidth,
    docScrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    outside: outside.slice(0, 8), outsideCount: outside.length,
    cut: cut.slice(0, 8), cutCount: cut.length,
    squeezed: squeezed.slice(0, 8), squeezedCount: squeezed.length,
  };
}
'''

# One key control: its box (a form field's whole .q-field), its ancestors' clip, its field label.
_CONTROL_JS = r'''
(el, vw) => {
  const target = el.closest('.q-field') || el;
  const r = target.getBoundingClientRect();
  let left = -1e9, right = 1e9;
  for (let a = target.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
    const cs = getComputedStyle(a);
    if (cs.overflowX !== 'visible') {
      const ar = a.getBoundingClientRect();
      left = Math.max(left, ar.left); right = Math.min(right, ar.right);
    }
    if (cs.position === 'fixed') break;
  }
  let label = null;
  const lab = target.classList.contains('q-field') ? target.querySelector('.q-field__label') : null;
  if (lab && lab.textContent.trim()) {
    const lr = lab.getBoundingClientRect();
    label = {text: lab.textContent.trim(), left: lr.left, right: lr.right,
             needs: lab.scrollWidth, has: lab.clientWidth, truncated: lab.scrollWidth > lab.clientWidth + 1};
  }
  return {left: r.left, right: r.right, width: r.width, height: r.height, clipLeft: left, clipRight: right, label};
}
'''

# After the horizontal measurement: scroll the window (never the element's own container) so the
# control is in view vertically, then ask what is on top at its visible centre.
_HIT_JS = r'''
(el, vw) => {
  const target = el.closest('.q-field') || el;
  let r = target.getBoundingClientRect();
  if (r.top < 70 || r.bottom > window.innerHeight - 10) {
    window.scrollBy(0, r.top + r.height / 2 - window.innerHeight / 2);
    r = target.getBoundingClientRect();
  }
  const x = (Math.max(r.left, 0) + Math.min(r.right, vw)) / 2;
  const y = Math.min(Math.max((r.top + r.bottom) / 2, 1), window.innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  if (!hit) return null;
  if (target.contains(hit) || hit.contains(target) || hit.closest('.q-notifications')) return null;
  const host = target.closest('.q-field, .q-btn, .q-uploader, .q-tab, .q-item, td, th, a, label');
  if (host && host.contains(hit)) return null;
  const cls = [...hit.classList].filter(c => !c.startsWith('nicegui-')).slice(0, 3).join('.');
  const text = (hit.innerText || '').trim().replace(/\s+/g, ' ').slice(0, 30);
  return hit.tagName.toLowerCase() + (cls ? '.' + cls : '') + (text ? ` "${text}"` : '');
}
'''

_DRAWER_JS = r'''
(vw) => {
  const aside = document.querySelector('aside.q-drawer');
  if (!aside) return null;
  const r = aside.getBoundingClientRect();
  const backdrop = document.querySelector('.q-drawer__backdrop');
  let backdropShown = false;
  if (backdrop) {
    const cs = getComputedStyle(backdrop), br = backdrop.getBoundingClientRect();
    backdropShown = cs.display !== 'none' && cs.visibility !== 'hidden' && br.width > 0
                    && !backdrop.classList.contains('hidden') && cs.backgroundColor !== 'rgba(0, 0, 0, 0)';
  }
  const page = document.querySelector('.q-page-container');
  return {left: r.left, right: r.right, width: r.width, open: r.right > 1 && r.left < vw - 1,
          mobile: aside.classList.contains('q-drawer--mobile'), backdrop: backdropShown,
          contentPaddingLeft: page ? parseFloat(getComputedStyle(page).paddingLeft) : null};
}
'''


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool
    scale: int = 1
    user_agent: str | None = None

    def context_args(self) -> dict:
        args = {'viewport': {'width': self.width, 'height': self.height},
                'screen': {'width': self.width, 'height': self.height},
                'device_scale_factor': self.scale, 'is_mobile': self.mobile, 'has_touch': self.mobile,
                'locale': 'zh-CN'}
        if self.user_agent:
            args['user_agent'] = self.user_agent
        return args


@dataclass
class LayoutWalk:
    page: Page
    viewport: Viewport
    problems: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    number: int = 0
    current: str = ''

    def __post_init__(self) -> None:
        LAYOUT_DIR.mkdir(parents=True, exist_ok=True)
        for old in LAYOUT_DIR.glob(f'{self.viewport.name}-*'):
            old.unlink()
        self.page.on('pageerror', lambda exc: self.js_errors.append(f'[{self.current}] uncaught: {exc}'))
        self.page.on('console', lambda msg: self.js_errors.append(f'[{self.current}] console.error: {msg.text}')
                     if msg.type == 'error' else None)

    # ------------------------------------------------------------------ recording
    def problem(self, text: str) -> None:
        self.problems.append(f'[{self.current}] {text}')

    def step(self, slug: str, controls: list[tuple] = (), *, settle_ms: int = 350) -> None:
        """Every layout measurement of this step, and its screenshot (see ALL_SHOTS)."""
        self.number += 1
        self.current = f'{self.viewport.name}-{self.number:02d}-{slug}'
        self.page.wait_for_timeout(settle_ms)  # transitions (drawer, dialog, notification) come to rest
        self.page.evaluate('window.scrollTo(0, 0)')
        problems = len(self.problems)
        self._page_checks()
        for name, locator, *optional in controls:
            self.control(name, locator, optional=bool(optional and optional[0]))
        self.page.evaluate('window.scrollTo(0, 0)')
        if ALL_SHOTS or len(self.problems) > problems:
            path = LAYOUT_DIR / f'{self.current}.png'
            self.page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)

    def _page_checks(self) -> None:
        vw = self.viewport.width
        m = self.page.evaluate(_PAGE_JS, vw)
        if m['innerWidth'] != vw:
            self.problem(f'the page is zoomed out: window.innerWidth={m["innerWidth"]} ≠ viewport {vw} '
                         '(the phone shrinks a page that is wider than the screen)')
        widest = max(m['docScrollWidth'], m['bodyScrollWidth'])
        if m['docScrollWidth'] > min(vw, m['innerWidth']) or m['bodyScrollWidth'] > vw:
            self.problem(f'the page scrolls sideways: documentElement.scrollWidth={m["docScrollWidth"]}, '
                         f'body.scrollWidth={m["bodyScrollWidth"]} > viewport {vw} (by {widest - vw} px)')
        if m['outside']:
            items = '; '.join(f'{o["what"]} spans x={o["left"]}..{o["right"]}' for o in m['outside'])
            self.problem(f'{m["outsideCount"]} element(s) stick out of the 0..{vw} viewport: {items}')
        if m['cut']:
            items = '; '.join(f'{c["what"]} needs {c["needs"]} px, has {c["has"]} px' for c in m['cut'])
            self.problem(f'{m["cutCount"]} text(s) cut off: {items}')
        if m['squeezed']:
            items = '; '.join(f'{s["what"]}: {s["chars"]} chars on {s["lines"]} lines in {s["width"]} px'
                              for s in m['squeezed'])
            self.problem(f'{m["squeezedCount"]} text(s) squeezed to 1–2 characters a line: {items}')

        if m['broken']:
            items = '; '.join(f'{s["what"]}: broken {s["split"]} characters in {s["width"]} px' for s in m['broken'])
            self.problem(f'{m["brokenCount"]} short label(s) broken with one character alone on a line: {items}')
        if m['outOfCard']:
            items = '; '.join(f'{o["what"]} spans x={o["left"]}..{o["right"]}, its card x={o["cardLeft"]}..{o["cardRight"]}'
                              for o in m['outOfCard'])
            self.problem(f'{m["outOfCardCount"]} element(s) stick out of their card: {items}')
        for t in m['tables']:
            if t['window'] < min(MIN_TABLE_WINDOW, 0.35 * t['width']):
                self.problem(f'a table scrolls sideways inside its box ({t["width"]} px shown of {t["scrollWidth"]} px) '
                             f'but its sticky columns {t["stuck"]} take {t["left"]} + {t["right"]} px, leaving a '
                             f'{t["window"]} px window for the columns between them {t["headers"]}')
        if m['overlaps']:
            items = '; '.join(f'{o["a"]} over {o["b"]} ({o["w"]}×{o["h"]} px)' for o in m['overlaps'])
            self.problem(f'{m["overlapCount"]} text(s) drawn over each other: {items}')

    def control(self, name: str, locator: Locator, *, timeout: float = 1000, optional: bool = False) -> None:
        """A key control: visible, horizontally inside the viewport and its ancestors' clip, label whole,
        not covered. optional: measured only when it is shown (e.g. hidden on purpose on a phone)."""
        vw = self.viewport.width
        if optional and not locator.first.is_visible():
            return
        try:
            expect(locator).to_be_visible(timeout=timeout)
        except AssertionError:
            self.problem(f'{name}: not visible')
            return
        element = locator.element_handle()
        box = element.evaluate(_CONTROL_JS, vw)
        left, right = box['left'], box['right']
        lo, hi = max(0, box['clipLeft']), min(vw, box['clipRight'])
        clipped = box['clipLeft'] > -1e8 or box['clipRight'] < 1e8
        where = (f'; its scrolling/clipping container shows only x={lo:.0f}..{hi:.0f}' if clipped else '')
        if left < -TOLERANCE or right > vw + TOLERANCE:
            self.problem(f'{name}: outside the viewport: x={left:.0f}..{right:.0f} (width {box["width"]:.0f}) '
                         f'vs viewport 0..{vw}{where}')
        elif left < lo - TOLERANCE or right > hi + TOLERANCE:
            self.problem(f'{name}: cut off by a scrolling/clipping container: x={left:.0f}..{right:.0f}, '
                         f'visible only in x={lo:.0f}..{hi:.0f}')
        label = box['label']
        if label:
            if label['truncated']:
                self.problem(f'{name}: field label 「{label["text"]}」 is cut off '
                             f'(needs {label["needs"]} px, has {label["has"]} px)')
            if label['left'] < -TOLERANCE or label['right'] > vw + TOLERANCE:
                self.problem(f'{name}: field label 「{label["text"]}」 outside the viewport: '
                             f'x={label["left"]:.0f}..{label["right"]:.0f} vs 0..{vw}')
        covering = element.evaluate(_HIT_JS, vw)
        if covering:
            self.problem(f'{name}: covered by {covering}')

    # ------------------------------------------------------------------ the left menu (drawer)
    def drawer(self) -> dict | None:
        return self.page.evaluate(_DRAWER_JS, self.viewport.width)

    def expect_menu_closed(self) -> None:
        """Phone: the drawer does not cover the page on load (closed, no backdrop, no content offset).
        When it does: a screenshot of that, then a tap beside it closes it so the walk can go on."""
        d = self.drawer()
        if d is None:
            return
        if d['open'] or d['backdrop']:
            self.step('menu-covers-page')
            self.problem(f'the left menu covers the page on load: drawer x={d["left"]:.0f}..{d["right"]:.0f}'
                         f'{", with a backdrop" if d["backdrop"] else ""} on a {self.viewport.width} px screen '
                         '(should start closed)')
            if d['backdrop']:
                self.page.mouse.click(self.viewport.width - 8, self.viewport.height // 2)
                self.page.wait_for_timeout(400)
        if d['contentPaddingLeft']:
            self.problem(f'the content is pushed right by {d["contentPaddingLeft"]:.0f} px for the drawer')

    def expect_menu_open(self) -> None:
        """Desktop: the menu is open beside the content, which starts right of it."""
        d = self.drawer()
        if d is None or not d['open']:
            self.problem(f'the left menu is not open on a {self.viewport.width} px screen: {d}')
            return
        if d['backdrop'] or d['mobile']:
            self.problem(f'the left menu is an overlay (mobile mode) on a {self.viewport.width} px screen')
        if (d['contentPaddingLeft'] or 0) + TOLERANCE < d['right']:
            self.problem(f'the left menu (x=0..{d["right"]:.0f}) overlaps the content '
                         f'(content starts at x={d["contentPaddingLeft"]})')

    def finish(self) -> str:
        """The report text (also written next to the screenshots); empty when nothing was wrong."""
        lines = list(self.problems) + [f'JS error {e[:400]}' for e in dict.fromkeys(self.js_errors)]
        report = LAYOUT_DIR / f'{self.viewport.name}-problems.txt'
        report.write_text('\n'.join(lines) + '\n' if lines else 'no problems\n', encoding='utf-8')
        return '\n'.join(lines)


def menu_button(page: Page) -> Locator:
    """The header's button that opens the left menu on a phone (aria-label 菜单 / 打开菜单)."""
    return page.locator('.q-header').get_by_role('button', name=re.compile(r'^(打开)?菜单$'))


def menu_entry(page: Page, label: str) -> Locator:
    return page.locator('aside.q-drawer').get_by_text(label, exact=True)
