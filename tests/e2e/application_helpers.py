"""Steps and reads for the recognition-application (高层次人才认定) browser tests.

Accounts come from tests/factories.py run in this process against the server's data dir
(`application_world(n)` inside `helpers.app_services`): an active unit of 秀峰区 with an active person,
a 秀峰区 reviewer and a center account, all with factories.PASSWORD. Applications that a journey does
not file itself are brought to their state through the same services the pages call."""
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e import helpers
from tests.e2e.person_helpers import choose, confirm, go_menu, new_page, password_login

LIST_PATH = '/person/applications'
QUEUE_PATH = '/review/applications'
QUERY_PATH = '/query/applications'
# the example catalogue (glrc_ui/services/catalogue.py EXAMPLE): D-1 asks BASIC + 专业技术职称证书
CLAUSE_D1 = 'D-1 具有正高级专业技术职称的专业技术人才（示例）'
CLAUSE_D2 = 'D-2 博士研究生学历并取得博士学位，在桂林全职工作的人才（示例）'
D1_REQUIRED = ('身份证', '学历学位证书', '专业技术职称证书', '劳动合同或聘用证明', '社保缴纳证明')
PLEDGE = '本人承诺所填信息及所提交材料真实有效'
NUMBER = re.compile(r'SB\d{11,}')
CERTIFICATE = re.compile(r'^GLRC-\d{4}-D-\d{6}$')


@dataclass(frozen=True)
class World:
    """application_world(n): who files, who reviews at each stage (all with `password`)."""
    n: int
    person_phone: str
    person_name: str
    person_id: int
    unit_account: str
    unit_name: str
    reviewer: str
    center: str
    password: str


@contextmanager
def services(server):
    """helpers.app_services with the workflow entities registered, as `python main.py` does at start-up
    (cli.prepare): the services that fire transitions need them in this process too."""
    from glrc_ui import entities
    with helpers.app_services(server) as settings:
        entities.register_all()
        yield settings


def make_world(server, n: int, org: str = '秀峰区') -> World:
    from tests import factories
    with services(server):
        w = factories.application_world(n, org)
    return World(n=n, person_phone=factories.person_phone(n), person_name=f'测试人员{n:03d}',
                 person_id=w['person_id'], unit_account=w['unit_account'], unit_name=f'桂林测试{n:03d}有限公司',
                 reviewer=f'rev_u{n:03d}', center=f'ctr_u{n:03d}', password=factories.PASSWORD)


# ---------------------------------------------------------------- set up through the services

STEPS = {'draft': (), 'incomplete': (), 'pending_unit': (), 'pending_org': ('unit',),
         'pending_center': ('unit', 'reviewer'), 'approved': ('unit', 'reviewer', 'center')}
OPINIONS = {'unit': '情况属实，同意推荐', 'reviewer': '材料齐全，同意', 'center': '经审核，符合认定条件'}


def file_as(server, person: str, state: str, *, level: str = 'D', clause: int = 1,
            reviewers: dict[str, str] | None = None, **overrides) -> int:
    """An application of the person with login `person`, brought to `state` through the services:
    'incomplete' is a draft with 申报层次 alone (提交 lists what is missing); 'draft' has every field
    and a PDF for each required type; pending_unit | pending_org | pending_center | approved are
    submitted and approved (with an opinion) by reviewers {'unit', 'reviewer', 'center'} (logins)
    up to that stage, the center granting the 申报层次. Returns its id."""
    from glrc_ui.services import application_review, applications
    from tests import factories
    with services(server):
        actor = factories.actor_of_account(person)
        if state == 'incomplete':
            return applications.save(actor, None, {'level': level}, 0)['id']
        values = factories.application_values(level, clause_id=factories.clause_of(level, clause), **overrides)
        d = applications.save(actor, None, values, 0)
        for m in d['materials']:
            if m['required']:
                applications.upload_evidence(actor, d['id'], m['key'], factories.TINY_PDF, f'{m["label"]}.pdf')
        app_id = d['id']
        if state != 'draft':
            applications.submit(actor, app_id, applications.my_application(actor, app_id)['version'])
        for who in STEPS[state]:
            reviewer = factories.actor_of_account((reviewers or {})[who])
            application_review.review(reviewer, app_id, 'approve', factories.application_get(app_id).version,
                                      OPINIONS[who], {'granted_level': level} if who == 'center' else None)
        assert factories.application_get(app_id).state == ('draft' if state == 'incomplete' else state)
        return app_id


def file_application(server, world: World, state: str, *, level: str = 'D', **overrides) -> int:
    """An application of world's person (D-2 by default, every required type a PDF) brought to `state`
    (see file_as) by world's unit, reviewer and center."""
    return file_as(server, world.person_phone, state, level=level, clause=1 if level == 'D' else 0,
                   reviewers={'unit': world.unit_account, 'reviewer': world.reviewer, 'center': world.center},
                   **overrides)


def application_row(server, app_id: int) -> dict:
    """The application as stored now."""
    from db.engine import read_scope
    from db.models import Application
    with helpers.app_services(server), read_scope() as s:
        return s.get(Application, app_id).model_dump()


def number_of(server, app_id: int) -> str:
    return application_row(server, app_id)['number']


# ---------------------------------------------------------------- sample files

def sample_files(tmp_path: Path) -> dict[str, Path]:
    """A PDF and a PNG (real formats, checked by content on the server)."""
    from tests import factories
    pdf, png = tmp_path / '证明材料.pdf', tmp_path / '证件照片.png'
    pdf.write_bytes(factories.TINY_PDF)
    png.write_bytes(factories.TINY_PNG)
    return {'pdf': pdf, 'png': png}


def named_copy(source: Path, name: str) -> Path:
    """source under another file name (beside it): each upload shows under its own name."""
    target = source.parent / name
    target.write_bytes(source.read_bytes())
    return target


# ---------------------------------------------------------------- browser contexts

class Pages:
    """Opens pages, each in a browser context of its own (one per user), like the `page` fixture does:
    JavaScript errors are collected, and at the end every page still open is photographed when the
    test failed (test-artifacts/FAILED-<test>-<n>.png), then closed."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.opened: list[Page] = []
        self.js_errors: list[str] = []
        self.trail: list[str] = []

    def new(self, **context_args) -> Page:
        page = new_page(self.browser, **context_args)
        number = len(self.opened) + 1
        page.on('pageerror', lambda exc: self.js_errors.append(f'[page {number}] uncaught: {exc}'))
        page.on('console', lambda msg: self.js_errors.append(f'[page {number}] console.error: {msg.text}')
                if msg.type == 'error' else None)
        # what the browser did, printed when the test fails (a reload after a failed socket handshake
        # shows here as a second load of the same URL, with NiceGUI's console line before it)
        page.on('console', lambda msg: self.trail.append(f'[page {number}] console.{msg.type}: {msg.text[:300]}'))
        page.on('framenavigated', lambda frame: self.trail.append(f'[page {number}] loaded {frame.url}')
                if frame == page.main_frame else None)
        self.opened.append(page)
        return page

    def close(self, name: str, *, failed: bool) -> list[str]:
        """Screenshots and the browsers' trail on failure, contexts closed; returns the JavaScript errors seen."""
        if failed:
            print('\nwhat the browsers did (last 60 lines):\n' + '\n'.join(self.trail[-60:]))
        for i, page in enumerate(self.opened, start=1):
            if page.is_closed():
                continue
            if failed:
                try:
                    print(f'\nscreenshot of the failure: {helpers.shot(page, f"FAILED-{name}-{i}")}')
                except Exception as exc:  # noqa: BLE001 - keep the test's own error
                    print(f'\nno failure screenshot: {exc}')
            page.context.close()
        return list(dict.fromkeys(e[:500] for e in self.js_errors))


# ---------------------------------------------------------------- logins

def person_page(pages: Pages, server, world: World, **context_args) -> Page:
    page = pages.new(**context_args)
    password_login(page, server, world.person_phone, world.password)
    helpers.expect_home(page, server, world.person_name)
    return page


def staff_page(pages: Pages, server, account: str, password: str, *, unit: bool = False) -> Page:
    """A unit operator (单位用户) or a reviewer / center account (管理人员), logged in, on 首页."""
    page = pages.new()
    helpers.staff_login(page, server, account, password, tab='单位用户' if unit else '管理人员')
    expect(page).to_have_url(server.url('/'))
    expect(page.get_by_test_id('user-name')).to_be_visible()
    return page


# ---------------------------------------------------------------- the person's pages

def list_row(page: Page, text: str) -> Locator:
    """The row of 高层次人才认定申报 (or of a queue) that shows text (a 申报编号 or a name)."""
    return page.locator('.glrc-table tbody tr', has_text=text)


def row_button(row: Locator, label: str) -> Locator:
    """A row's button: named by its label and the row's name (申报编号 or 姓名)."""
    return row.get_by_role('button', name=re.compile(rf'^{label}(\s|$)'))


def fill_form(page: Page, *, clause: str = CLAUSE_D1, specialty: str, achievements: str, honors: str = '',
              pledge: bool = True) -> None:
    """On the 新增 / 编辑 form: 申报层次 D类, 认定依据, the texts, the 本人承诺 checkbox."""
    choose(page, '申报层次', 'D类')
    choose(page, '认定依据', clause)
    page.get_by_label('现从事专业及岗位', exact=True).fill(specialty)
    page.get_by_label('主要业绩及成果', exact=True).fill(achievements)
    if honors:
        page.get_by_label('获奖及荣誉情况', exact=True).fill(honors)
    box = page.get_by_role('checkbox', name=PLEDGE)
    if (box.get_attribute('aria-checked') == 'true') != pledge:
        box.click()
    expect(box).to_have_attribute('aria-checked', 'true' if pledge else 'false')


def save_form(page: Page) -> str:
    """保存 → 保存成功; returns the 申报编号 the page shows."""
    page.get_by_role('button', name='保存', exact=True).click()
    expect(page.get_by_text(re.compile('^保存成功')).first).to_be_visible()
    number = page.get_by_text(re.compile(r'^申报编号：SB\d+$'))
    expect(number).to_be_visible()
    return number.inner_text().removeprefix('申报编号：').strip()


def material(page: Page, label: str) -> Locator:
    """The 附件 section of one material type (its heading is the type's name)."""
    return page.locator('section', has=page.get_by_role('heading', name=label, exact=True))


def upload(page: Page, label: str, path: Path) -> None:
    """Pick a file in the material type's uploader and wait until it is listed with 预览 / 下载."""
    box = material(page, label)
    expect(box.get_by_role('button', name=f'上传{label}：选择文件')).to_be_visible()
    box.locator('input[type=file]').set_input_files(str(path))
    expect(box.get_by_text(path.name, exact=True)).to_be_visible()
    expect(box.get_by_role('link', name=f'预览 {path.name}')).to_be_visible()
    expect(box.get_by_role('link', name=f'下载 {path.name}')).to_be_visible()


def mark_offline(page: Page, label: str, note: str) -> None:
    """「线下提交纸质材料」 with its explanation, 保存说明."""
    box = material(page, label)
    box.get_by_role('checkbox', name=f'{label}：线下提交纸质材料').click()
    box.get_by_label(f'{label}线下提交说明', exact=True).fill(note)
    box.get_by_role('button', name='保存说明').click()
    expect(page.get_by_text('已保存：线下提交纸质材料')).to_be_visible()
    expect(box).to_contain_text('已选择线下提交纸质材料')


def state_badge(page: Page, text: str) -> Locator:
    return page.locator('.q-badge', has_text=re.compile(f'^{re.escape(text)}$'))


# ---------------------------------------------------------------- review

def open_review(page: Page, server, name: str) -> None:
    """高层次人才认定审核 (menu) → the row of this applicant → 审核."""
    go_menu(page, server, '高层次人才认定审核', QUEUE_PATH)
    row = list_row(page, name)
    expect(row).to_have_count(1)
    row.get_by_role('button', name=f'审核 {name}', exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(server.url(QUEUE_PATH + '/')) + r'\d+$'))
    expect(page.get_by_role('heading', name='高层次人才认定审核 · 审核', level=1)).to_be_visible()


def decide(page: Page, server, name: str, number: str, button: str, opinion: str, *, level: str | None = None) -> None:
    """On the review page: 审核意见 (and the center's 认定层次), the button, its confirmation; back on the queue."""
    page.get_by_label('审核意见', exact=True).fill(opinion)
    if level:
        choose(page, '认定层次', level)
    page.get_by_role('button', name=button, exact=True).click()
    lines = [f'确定对「{name}（{number}）」执行“{button}”吗？', f'审核意见：{opinion}']
    if level:
        lines.append(f'认定层次：{level}')
    confirm(page, f'确认{button}', *lines)
    expect(page).to_have_url(server.url(QUEUE_PATH))
    # back on the queue (待审核): the application no longer waits here
    expect(page.get_by_role('button', name='待审核', exact=True)).to_have_attribute('aria-pressed', 'true')
    expect(list_row(page, number)).to_have_count(0)


def review_as(pages: Pages, server, account: str, password: str, name: str, number: str, button: str,
              opinion: str, *, unit: bool = False, level: str | None = None, shot: str | None = None) -> None:
    """Log in (own browser context), open the applicant's review page, decide, close the context."""
    page = staff_page(pages, server, account, password, unit=unit)
    try:
        open_review(page, server, name)
        expect(page.get_by_text(f'申报编号：{number}')).to_be_visible()
        if shot:
            helpers.shot(page, shot)
        decide(page, server, name, number, button, opinion, level=level)
    finally:
        page.context.close()


def sheet_value(page: Page, label: str) -> Locator:
    """The value beside a label of a detail sheet (审核结果, 申报人信息)."""
    row = page.locator('.glrc-sheet-row', has=page.locator('.glrc-sheet-label', has_text=re.compile(f'^{label}$')))
    return row.locator('.glrc-sheet-value')
