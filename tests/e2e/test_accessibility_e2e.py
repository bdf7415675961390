"""Accessibility (issue 8, item 4): axe-core on every page of every role, in real Chromium.

One test per role and page (the id names both). A page fails on any violation of a WCAG 2.0/2.1
A/AA rule with impact critical or serious; the failure lists rule, impact, help and the first
elements (selector + HTML). Every page's full result goes to test-artifacts/axe/<role>-<page>.json,
with the lower-impact and best-practice findings too (those never fail the test).

The demo data (`seed-demo`) gives staff of every kind, units, persons and recognition applications
in every state; one more person is added, and two drafts (one complete, one with only its 申报层次)
of a demo person, for the 附件 page and both answers of 「提交」 (the confirmation and what is missing).
Each role logs in once per module and its pages share that browser context.
How axe-core is installed and injected: tests/e2e/axe_helpers.py."""
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from glrc_ui.demo import DEMO_PASSWORD, credit_code
from tests.e2e import axe_helpers, helpers
from tests.e2e.application_helpers import file_as
from tests.e2e.axe_helpers import blocking, describe

pytestmark = pytest.mark.ui_only   # the same markup on either database: SQLite pass only (scripts/test.sh)

PERSON_PHONE, PERSON_NAME = '13907739001', '周个人'
# Units of the demo (glrc_ui/demo.py: number in UNITS, from 1) that the staff pages open.
PENDING_ORG_UNIT = 2       # unit_guike, 秀峰区, 待城区/主管部门审核: xiufeng_review reviews it
PENDING_CENTER_UNIT = 5    # unit_yaoye, 待市人才服务中心审核: the center reviews it
ACTIVE_UNIT = 9            # unit_gaoxin, 秀峰区, 审核通过: a detail page (center admins may 停用)
# Persons of the demo (glrc_ui/demo.py PERSONS), all of unit_gaoxin.
REGISTERED_PERSON = '13977300001'   # 黄立新, 未提交: 个人信息维护 editable
PENDING_PERSON = '13977300002'      # 韦秀梅, 待单位审核: unit_gaoxin's review page
ACTIVE_PERSON = '13977300004'       # 覃丽华, 审核通过: identity locked, with the note
# Recognition applications of the demo (glrc_ui/demo.py APPLICATIONS), as {app<phone><申报层次>} in paths.
APPROVED_APP = 'app13977300004D'      # 覃丽华, 认定通过 (unit_gaoxin, 秀峰区): 审核结果 with 证书编号
PENDING_UNIT_APP = 'app13977300004C'  # 覃丽华, 待单位审核: unit_gaoxin reviews it
PENDING_ORG_APP = 'app13977300005D'   # 陆建国 (unit_jiaoyan), 待主管部门/城区审核: jiaoyu_review reviews it
RETURNED_APP = 'app13977300005E'      # 陆建国, 退回修改 by 市教育局: a 详情 page for jiaoyu_review
PENDING_CENTER_APP = 'app13977300008D'   # 周文斌 (unit_gaoxin), 待市人才服务中心审核: 认定层次 in the box
RESUBMITTED_APP = 'app13977300009D'   # 唐雪梅, returned and resubmitted: 退回后修改情况 on its page
APPLICANT = '13977300010'             # 罗志明, E 认定通过; the site adds a complete D draft and a bare C draft
DRAFT_APP, BARE_APP, APPLICANT_RESULT = f'app{APPLICANT}D', f'app{APPLICANT}C', f'app{APPLICANT}E'


# ---------------------------------------------------------------- what each role visits

@dataclass(frozen=True)
class Visit:
    name: str
    open: Callable[[Page, 'Site'], None]   # navigate and do what the page needs, until its content shows


@dataclass
class Site:
    server: helpers.Server
    unit_ids: dict[int, int]   # demo unit number -> Unit.id
    person_ids: dict[str, int]   # demo person phone -> Person.id
    app_ids: dict[str, int]      # 'app<phone><申报层次>' -> Application.id

    def url(self, path: str) -> str:
        """path with {unit<n>}, {person<phone>} and {app<phone><层次>} filled in."""
        ids = {f'unit{n}': i for n, i in self.unit_ids.items()} | {f'person{p}': i for p, i in self.person_ids.items()}
        return self.server.url(path.format(**ids, **self.app_ids))


def goto(path: str, ready: Callable[[Page], None] | None = None) -> Callable[[Page, Site], None]:
    """Open path (unless the page shows it already: 首页 right after the login, the review page
    before its dialog) and wait for its content."""
    def open_(page: Page, site: Site) -> None:
        url = site.url(path)
        if page.url != url:
            page.goto(url)
        (ready or framed)(page)
    return open_


def framed(page: Page) -> None:
    """A page inside the frame: header with the user's name, and the content card's title."""
    expect(page.get_by_test_id('user-name')).to_be_visible()
    expect(page.locator('.glrc-title').first).to_be_visible()


def denied(page: Page) -> None:
    expect(page.get_by_text('无权访问此页面')).to_be_visible()


def pointer_off(page: Page) -> None:
    """Right after a click: the hover effects end while the page reacts, not after it (settle waits
    for every transition to finish)."""
    page.mouse.move(-1, -1)


def login_tab(tab: str, sub_tab: str | None = None) -> Callable[[Page, Site], None]:
    """A tab of /login, chosen as a user does: by clicking it on the open page (loaded if it is not)."""
    def open_(page: Page, site: Site) -> None:
        on_login = page.url.split('?')[0] == site.server.url('/login')
        helpers.open_login_tab(page, site.server, tab, sub_tab, path=None if on_login else '/login')
    return open_


def register_unit(page: Page, site: Site) -> None:
    page.goto(site.server.url('/register/unit'))
    expect(page.get_by_label('单位名称', exact=True)).to_be_visible()


def not_found(page: Page, site: Site) -> None:
    response = page.goto(site.server.url('/no-such-page'))
    assert response is not None and response.status == 404
    expect(page.get_by_text(re.compile('404|页面不存在|not found', re.I)).first).to_be_visible()


def queue_all(page: Page, site: Site) -> None:
    """/review/units, tab 全部: the table shows units that are no longer waiting (e.g. 审核通过)."""
    goto('/review/units')(page, site)
    page.get_by_role('button', name='全部', exact=True).click()
    pointer_off(page)
    expect(page.locator('.glrc-table tbody tr', has_text='审核通过').first).to_be_visible()


def review_dialog(unit: int) -> Callable[[Page, Site], None]:
    """The review page of a waiting unit with 通过's confirmation dialog open (closed with 取消 after axe)."""
    def open_(page: Page, site: Site) -> None:
        goto(f'/review/units/{{unit{unit}}}?mode=review')(page, site)
        page.get_by_role('button', name='通过', exact=True).click()
        pointer_off(page)
        dialog = page.get_by_role('dialog')
        expect(dialog.get_by_role('button', name='取消', exact=True)).to_be_visible()
        expect(dialog.get_by_role('button', name='确定', exact=True)).to_be_visible()
    return open_


def register_person(page: Page, site: Site) -> None:
    page.goto(site.server.url('/register/person'))
    expect(page.get_by_label('所在单位', exact=True)).to_be_visible()


def unit_persons(status: str) -> Callable[[Page, Site], None]:
    """/unit/persons with its toggle on status (待审核 / 全部), the table showing the rows of that choice."""
    def open_(page: Page, site: Site) -> None:
        goto('/unit/persons')(page, site)
        toggle = page.get_by_role('button', name=status, exact=True)
        if toggle.get_attribute('aria-pressed') != 'true':
            toggle.click()
            pointer_off(page)
        expect(toggle).to_have_attribute('aria-pressed', 'true')
        expect(page.locator('.glrc-table tbody tr', has_text='待单位审核').first).to_be_visible()
        if status == '全部':
            expect(page.locator('.glrc-table tbody tr', has_text='审核通过').first).to_be_visible()
    return open_


def person_review(page: Page, site: Site) -> None:
    """A unit's review page of its waiting person: full information, 审核意见, 通过 / 退回修改, 审核记录."""
    goto(f'/unit/persons/{{person{PENDING_PERSON}}}')(page, site)
    expect(page.get_by_role('heading', name='个人信息审核', level=1)).to_be_visible()
    expect(page.get_by_role('button', name='退回修改', exact=True)).to_be_visible()


def person_review_dialog(page: Page, site: Site) -> None:
    """That review page with 通过's confirmation open (closed with 取消 after axe)."""
    person_review(page, site)
    page.get_by_role('button', name='通过', exact=True).click()
    pointer_off(page)
    dialog = page.get_by_role('alertdialog')
    expect(dialog.get_by_role('button', name='取消', exact=True)).to_be_visible()
    expect(dialog.get_by_role('button', name='确定', exact=True)).to_be_visible()


def new_person_dialog(page: Page, site: Site) -> None:
    """/unit/persons with the 新增单位人员 dialog open (closed with 取消 after axe: nothing is saved)."""
    goto('/unit/persons')(page, site)
    page.get_by_role('button', name='新增单位人员').click()
    pointer_off(page)
    dialog = page.get_by_role('dialog', name='新增单位人员')
    expect(dialog.get_by_label('身份证号', exact=True)).to_be_visible()
    expect(dialog.get_by_role('button', name='取消', exact=True)).to_be_visible()


def close_dialog(page: Page) -> None:
    """取消 (a confirmation) or 关闭 (what 提交 still misses): nothing is confirmed."""
    dialog = page.get_by_role('dialog')
    if dialog.count():
        dialog.get_by_role('button', name=re.compile('^(取消|关闭)$')).click()
        expect(dialog).to_have_count(0)


def app_queue(status: str, *, rows: bool = True) -> Callable[[Page, Site], None]:
    """/review/applications with its toggle on status (待审核 / 全部) and, with rows, a row shown."""
    def open_(page: Page, site: Site) -> None:
        goto('/review/applications')(page, site)
        toggle = page.get_by_role('button', name=status, exact=True)
        if toggle.get_attribute('aria-pressed') != 'true':
            toggle.click()
            pointer_off(page)
        expect(toggle).to_have_attribute('aria-pressed', 'true')
        if rows:
            expect(page.locator('.glrc-table tbody tr .glrc-actions').first).to_be_visible()
    return open_


def app_query(page: Page, site: Site) -> None:
    """人才认定情况查询: every role's applications, the first row shown."""
    goto('/query/applications')(page, site)
    expect(page.locator('.glrc-table tbody tr .glrc-actions').first).to_be_visible()


def app_review(app: str, *, button: str | None = '通过') -> Callable[[Page, Site], None]:
    """The review page of an application (审核 with its box, or 详情 without: button None)."""
    def open_(page: Page, site: Site) -> None:
        goto(f'/review/applications/{{{app}}}')(page, site)
        expect(page.get_by_role('heading', name=re.compile('^高层次人才认定审核 · '), level=1)).to_be_visible()
        expect(page.get_by_role('heading', name='审核记录', level=2)).to_be_visible()
        if button:
            expect(page.get_by_role('button', name=button, exact=True)).to_be_visible()
    return open_


def app_review_dialog(app: str) -> Callable[[Page, Site], None]:
    """That review page with 通过's confirmation open (closed with 取消 after axe)."""
    def open_(page: Page, site: Site) -> None:
        app_review(app)(page, site)
        page.get_by_role('button', name='通过', exact=True).click()
        pointer_off(page)
        dialog = page.get_by_role('alertdialog', name='确认通过')
        expect(dialog.get_by_role('button', name='取消', exact=True)).to_be_visible()
        expect(dialog.get_by_role('button', name='确定', exact=True)).to_be_visible()
    return open_


def app_result(app: str) -> Callable[[Page, Site], None]:
    def open_(page: Page, site: Site) -> None:
        goto(f'/applications/{{{app}}}/result')(page, site)
        expect(page.get_by_role('heading', name='审核过程', level=2)).to_be_visible()
    return open_


def my_applications(page: Page, site: Site) -> None:
    goto('/person/applications')(page, site)
    expect(page.locator('.glrc-table tbody tr .glrc-actions').first).to_be_visible()


def app_form(path: str) -> Callable[[Page, Site], None]:
    """新增 / 编辑 / 查看: the person's information and the application's fields."""
    def open_(page: Page, site: Site) -> None:
        goto(path)(page, site)
        expect(page.get_by_role('heading', name='申报人信息', level=2)).to_be_visible()
        expect(page.get_by_label('申报层次', exact=True).first).to_be_visible()
    return open_


def app_files(app: str, *, offline: bool = False) -> Callable[[Page, Site], None]:
    """附件 of an application; offline: 其他材料's 「线下提交纸质材料」 ticked (its explanation shows; not saved)."""
    def open_(page: Page, site: Site) -> None:
        goto(f'/person/applications/{{{app}}}/files')(page, site)
        expect(page.get_by_role('heading', name='身份证', level=3)).to_be_visible()
        if offline:
            page.get_by_role('checkbox', name='其他材料：线下提交纸质材料').click()
            pointer_off(page)
            expect(page.get_by_label('其他材料线下提交说明', exact=True)).to_be_visible()
    return open_


def app_submit(app: str, dialog_name: str) -> Callable[[Page, Site], None]:
    """附件 → 提交: the confirmation (a complete draft) or the list of what is missing (closed after axe)."""
    def open_(page: Page, site: Site) -> None:
        app_files(app)(page, site)
        page.get_by_role('button', name='提交', exact=True).click()
        pointer_off(page)
        dialog = page.get_by_role('alertdialog' if dialog_name == '确认提交' else 'dialog', name=dialog_name)
        expect(dialog.get_by_role('button', name=re.compile('^(取消|关闭)$'))).to_be_visible()
    return open_


ANONYMOUS = [
    Visit('login-unit', login_tab('单位用户')),
    Visit('login-person-password', login_tab('个人用户', '密码登录')),
    Visit('login-person-code', login_tab('个人用户', '验证码登录')),
    Visit('login-staff', login_tab('管理人员')),
    Visit('register-unit', register_unit),
    Visit('register-person', register_person),
    Visit('not-found', not_found),
]
OWN_PAGES = [Visit('home', goto('/')), Visit('account-settings', goto('/account/settings')),
             Visit('messages', goto('/messages'))]
UNIT_PAGES = [*OWN_PAGES, Visit('unit-info', goto('/unit/info')), Visit('denied', goto('/review/units', denied))]
ACTIVE_UNIT_PAGES = [*UNIT_PAGES, Visit('unit-persons', unit_persons('待审核')),
                     Visit('unit-persons-all', unit_persons('全部')), Visit('unit-person-review', person_review),
                     Visit('unit-person-review-confirm', person_review_dialog),
                     Visit('unit-person-new', new_person_dialog),
                     Visit('app-queue', app_queue('待审核')), Visit('app-queue-all', app_queue('全部')),
                     Visit('app-review', app_review(PENDING_UNIT_APP)),
                     Visit('app-review-confirm', app_review_dialog(PENDING_UNIT_APP)),
                     Visit('app-detail', app_review(APPROVED_APP, button=None)),
                     Visit('app-query', app_query), Visit('app-result', app_result(APPROVED_APP))]
PERSON_PAGES = [*OWN_PAGES, Visit('person-info', goto('/person/info')), Visit('denied', goto('/review/units', denied))]
# an active person with applications in several states
ACTIVE_PERSON_PAGES = [*PERSON_PAGES, Visit('my-apps', my_applications),
                       Visit('app-new', app_form('/person/applications/new')),
                       Visit('app-view', app_form(f'/person/applications/{{{PENDING_UNIT_APP}}}')),
                       Visit('app-files-frozen', app_files(PENDING_UNIT_APP)),
                       Visit('app-result', app_result(APPROVED_APP)), Visit('app-query', app_query)]
APPLICANT_PAGES = [Visit('my-apps', my_applications),
                   Visit('app-edit', app_form(f'/person/applications/{{{DRAFT_APP}}}')),
                   Visit('app-files', app_files(DRAFT_APP)),
                   Visit('app-files-offline', app_files(DRAFT_APP, offline=True)),
                   Visit('app-submit-confirm', app_submit(DRAFT_APP, '确认提交')),
                   Visit('app-submit-missing', app_submit(BARE_APP, '尚不能提交')),
                   Visit('app-result', app_result(APPLICANT_RESULT))]


def staff_pages(pending: int) -> list[Visit]:
    return [*OWN_PAGES,
            Visit('review-queue', goto('/review/units')),
            Visit('review-queue-all', queue_all),
            Visit('review-unit', goto(f'/review/units/{{unit{pending}}}?mode=review')),
            Visit('review-unit-confirm', review_dialog(pending)),
            Visit('unit-detail', goto(f'/review/units/{{unit{ACTIVE_UNIT}}}')),
            Visit('denied', goto('/unit/info', denied))]


def staff_app_pages(pending: str | None, detail: str) -> list[Visit]:
    """高层次人才认定审核 and 人才认定情况查询 for a reviewer or the center: the queue, an application
    waiting at this stage (its review page and 通过's confirmation), one seen in 详情, the query."""
    waiting = [Visit('app-queue', app_queue('待审核')), Visit('app-review', app_review(pending)),
               Visit('app-review-confirm', app_review_dialog(pending))] if pending else []
    return [*waiting, Visit('app-queue-all', app_queue('全部')), Visit('app-detail', app_review(detail, button=None)),
            Visit('app-query', app_query), Visit('app-result', app_result(detail))]


# role -> (login: None for anonymous, else (login tab, account)), pages
ROLES: dict[str, tuple[tuple[str, str] | None, list[Visit]]] = {
    'anonymous': (None, ANONYMOUS),
    'unit_new': (('单位用户', 'unit_new'), UNIT_PAGES),            # registered, info not submitted
    'unit_tuihui': (('单位用户', 'unit_tuihui'), UNIT_PAGES),      # returned with an opinion
    'unit_gaoxin': (('单位用户', 'unit_gaoxin'), ACTIVE_UNIT_PAGES),   # active: its persons too
    'person': (('个人用户', PERSON_PHONE), PERSON_PAGES),
    'person_registered': (('个人用户', REGISTERED_PERSON), PERSON_PAGES),   # info not submitted
    'person_active': (('个人用户', ACTIVE_PERSON), ACTIVE_PERSON_PAGES),    # approved by its unit
    'person_applicant': (('个人用户', APPLICANT), APPLICANT_PAGES),         # drafts to edit and submit
    'xiufeng_review': (('管理人员', 'xiufeng_review'), staff_pages(PENDING_ORG_UNIT)
                       + staff_app_pages(None, PENDING_CENTER_APP)),       # 秀峰区 has none waiting now
    'jiaoyu_review': (('管理人员', 'jiaoyu_review'), staff_app_pages(PENDING_ORG_APP, RETURNED_APP)),
    'center_admin': (('管理人员', 'center_admin'), staff_pages(PENDING_CENTER_UNIT)),
    'center_staff': (('管理人员', 'center_staff'), staff_pages(PENDING_CENTER_UNIT)
                     + staff_app_pages(PENDING_CENTER_APP, RESUBMITTED_APP)),
}
CASES = [pytest.param(role, visit, id=f'{role}-{visit.name}') for role, (_, visits) in ROLES.items() for visit in visits]


# ---------------------------------------------------------------- fixtures: data, one context per role

@pytest.fixture(scope='module')
def site(server) -> Site:
    helpers.cli(server, 'seed-demo')
    helpers.create_person(server, PERSON_PHONE, PERSON_NAME, DEMO_PASSWORD)
    from sqlmodel import select

    from db.engine import read_scope
    from db.models import Application, Person, Unit, User
    wanted = (PENDING_ORG_UNIT, PENDING_CENTER_UNIT, ACTIVE_UNIT)
    for state, level in (('draft', 'D'), ('incomplete', 'C')):
        file_as(server, APPLICANT, state, level=level)
    with helpers.app_services(server), read_scope() as s:
        ids = {n: s.exec(select(Unit.id).where(Unit.credit_code == credit_code(n))).one() for n in wanted}
        persons = {phone: s.exec(select(Person.id).join(User, Person.user_id == User.id)
                                 .where(User.phone == phone)).one() for phone in (PENDING_PERSON,)}
        apps = {f'app{phone}{level}': app_id for app_id, phone, level in s.exec(
            select(Application.id, User.phone, Application.level).join(User, Application.applicant_user_id == User.id)
            .where(Application.state != 'deleted')).all()}
    return Site(server, ids, persons, apps)


def log_in(page: Page, site: Site, tab: str, account: str) -> None:
    if tab == '个人用户':
        panel = helpers.open_login_tab(page, site.server, tab, '密码登录')
        panel.get_by_label('手机号', exact=True).fill(account)
        panel.get_by_label('密码', exact=True).fill(DEMO_PASSWORD)
        panel.get_by_role('button', name='登录', exact=True).click()
    else:
        helpers.staff_login(page, site.server, account, DEMO_PASSWORD, tab=tab)
    expect(page).to_have_url(site.server.url('/'))
    expect(page.get_by_test_id('user-name')).to_be_visible()


@pytest.fixture(scope='module')
def role_pages(browser: Browser, site: Site):
    """role -> its one page (a browser context of its own), logged in on first use."""
    contexts: list[BrowserContext] = []
    pages: dict[str, Page] = {}

    def get(role: str) -> Page:
        if role not in pages:
            context = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='zh-CN')
            context.set_default_timeout(10_000)
            contexts.append(context)
            page = axe_helpers.watch_socket(context.new_page())
            login = ROLES[role][0]
            if login is not None:
                log_in(page, site, *login)
                axe_helpers.settle(page)   # the home page is done with its socket before the first visit
            pages[role] = page
        return pages[role]

    yield get
    for context in contexts:
        context.close()


# ---------------------------------------------------------------- the tests

def check(page: Page, name: str) -> None:
    """Run axe on the settled page, write the report, fail on a blocking violation."""
    axe_helpers.settle(page)
    results = axe_helpers.run_axe(page)
    report = axe_helpers.write_report(name, page.url, results)
    failing = blocking(results)
    others = axe_helpers.advisory(results)
    if others:
        print(f'\n{name}: not failing (lower impact or best-practice):\n{describe(others, examples=1)}')
    if failing:
        pytest.fail(f'{name} ({page.url}): {len(failing)} critical/serious accessibility violation(s) '
                    f'(axe-core {results["testEngine"]["version"]}, WCAG 2.1 A/AA); report: {report}\n'
                    + describe(failing), pytrace=False)


@pytest.mark.parametrize(('role', 'visit'), CASES)
def test_page_has_no_serious_accessibility_violation(role: str, visit: Visit, role_pages, site: Site):
    page = role_pages(role)
    try:
        visit.open(page, site)
        check(page, f'{role}-{visit.name}')
    finally:
        close_dialog(page)   # the confirmation is only looked at, never confirmed: the data stay as seeded


def test_axe_check_passes_a_clean_page_and_catches_a_new_violation(browser: Browser):
    """The check itself, on a page of our own: nothing to report on a clean page; an image without
    alt text and a button without a name are found, as critical WCAG violations of those elements."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<!doctype html><html lang="zh-CN"><head><title>干净的页面</title></head><body>'
                         '<main><h1>标题</h1><p>正文</p><button>提交</button></main></body></html>')
        results = axe_helpers.run_axe(page)
        assert results['violations'] == [], describe(results['violations'])
        page.evaluate('''() => { const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<img id="no-alt" src="data:,"><button id="no-name"></button>'); }''')
        found = {v['id']: v for v in blocking(axe_helpers.run_axe(page))}
        assert set(found) == {'image-alt', 'button-name'}, describe(list(found.values()))
        assert found['image-alt']['nodes'][0]['target'] == ['#no-alt']
        assert found['button-name']['nodes'][0]['target'] == ['#no-name']
        assert '#no-name' in describe(list(found.values()))
    finally:
        context.close()


def test_axe_check_catches_a_new_violation(role_pages, site: Site):
    """On an app page, under its Content-Security-Policy: axe is injected and runs, and an element
    added without a text alternative fails the check."""
    page = role_pages('anonymous')
    helpers.open_login_tab(page, site.server, '单位用户')
    axe_helpers.settle(page)
    page.evaluate('''() => document.querySelector('.q-card').insertAdjacentHTML('beforeend',
        '<img id="axe-probe-img" src="data:,"><button id="axe-probe-button"></button>')''')
    try:
        after = blocking(axe_helpers.run_axe(page))
        targets = {v['id']: [n['target'] for n in v['nodes']] for v in after}
        assert ['#axe-probe-img'] in targets.get('image-alt', []), describe(after)
        assert ['#axe-probe-button'] in targets.get('button-name', []), describe(after)
    finally:
        page.evaluate("() => document.querySelectorAll('[id^=axe-probe]').forEach(e => e.remove())")


def test_violation_filter():
    """Only WCAG A/AA violations with impact critical or serious fail; best-practice never does."""
    def violation(rule: str, impact: str, tags: list[str]) -> dict:
        return {'id': rule, 'impact': impact, 'tags': tags, 'help': f'{rule} help', 'helpUrl': 'https://x',
                'nodes': [{'target': [f'#{rule}-{i}'], 'html': f'<div id="{rule}-{i}">', 'failureSummary': 'Fix it'}
                          for i in range(5)]}
    results = {'violations': [violation('color-contrast', 'serious', ['cat.color', 'wcag2aa']),
                              violation('region', 'moderate', ['best-practice']),
                              violation('heading-order', 'moderate', ['best-practice']),
                              violation('frame-tested', 'critical', ['best-practice']),
                              violation('list', 'serious', ['wcag2a']),
                              violation('image-alt', 'critical', ['wcag2a', 'section508']),
                              violation('label', 'minor', ['wcag21a'])]}
    assert [v['id'] for v in blocking(results)] == ['image-alt', 'color-contrast', 'list']
    assert [v['id'] for v in axe_helpers.advisory(results)] == ['frame-tested', 'heading-order', 'region', 'label']
    assert blocking({'violations': []}) == [] and blocking({}) == []
    text = describe(blocking(results))
    assert '[critical] image-alt × 5: image-alt help' in text
    assert '#image-alt-2' in text and '#image-alt-3' not in text and '… and 2 more' in text
