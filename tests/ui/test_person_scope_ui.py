"""The persons' scope matrix through the pages (NiceGUI `user` fixture; SECURITY C1, C2, C5, D1):
by URL, by a forged row-action event and by a forged review click.

- another unit opening /unit/persons/<id> gets the not-found panel, and nothing of the person;
- a person, a unit that is not active and staff get 无权访问此页面 on the unit's persons pages; staff and
  units get it on /person/info;
- a unit operator's table event carrying ANOTHER unit's person id navigates to that person's page,
  which refuses it;
- the review box's decision is bound to the person (and version) the page was built for: a click
  after the person moved on is a conflict, and changes nothing."""
import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from glrc_ui.services import accounts, persons, unit_review
from pages.unit_persons import NOT_FOUND
from tests import factories as f
from tests.ui.test_everyday_use import dialog_open
from tests.ui.test_person_pages import emit, login_person
from tests.ui.test_unit_pages import confirm, login, on_page, open_page, wait_for

DENIED = '无权访问此页面'
CONFLICT = '已被他人处理，请刷新后查看最新状态'


def page_dump(user: User) -> str:
    """Everything the page holds server-side: every element's text, props and (tables) rows."""
    parts = []
    with user.client:
        for element in ElementFilter(local_scope=False):
            parts += [str(getattr(element, 'text', '')), str(element.props), str(getattr(element, 'rows', ''))]
    return '\n'.join(parts)


def denials(obj: str) -> list:
    return [r for r in f.audit_rows('permission_denied') if r.object == obj]


def person_table(user: User) -> ui.table:
    with user.client:
        [table] = list(ElementFilter(kind=ui.table, local_scope=False))
    return table


def review_rows(person_id: int) -> list:
    from sqlmodel import select

    from db.engine import session_scope
    from db.models import ReviewRecord
    with session_scope() as s:
        return [(r.action, r.from_state, r.to_state) for r in s.exec(
            select(ReviewRecord).where(ReviewRecord.entity == 'person', ReviewRecord.entity_id == person_id)
            .order_by(ReviewRecord.id)).all()]


def fixed(person_id: int) -> tuple:
    p = f.person_get(person_id)
    return p.state, p.version, review_rows(person_id)


@pytest.fixture
def two_units():
    """Unit A (n=90) with P (n=30) and P2 (n=31) waiting for it; unit B (n=91) with Q (n=32) waiting."""
    a, acc_a = f.unit_active(90)
    b, acc_b = f.unit_active(91, '七星区')
    return {'a': a, 'acc_a': acc_a, 'b': b, 'acc_b': acc_b, 'p': f.person_submitted(30, a),
            'p2': f.person_submitted(31, a), 'q': f.person_submitted(32, b)}


# ================================================================ by URL
async def test_another_unit_gets_the_not_found_panel_and_nothing_of_the_person(user: User, two_units):
    w = two_units
    photo = accounts.set_avatar(f.person_actor(30), f.TINY_PNG, '证件照.png')['id']
    await login(user, '单位用户', w['acc_b'])
    for person_id in (w['p'], w['p2'], 987654):
        await open_page(user, f'/unit/persons/{person_id}', NOT_FOUND)
        dump = page_dump(user)
        for secret in (f.id_number(30), f.id_number(31), f.person_phone(30), '测试人员030', '测试人员031'):
            assert secret not in dump, f'{secret} shown on /unit/persons/{person_id}'
        assert not on_page(user, '个人信息审核') and not on_page(user, '通过')
        assert len(denials(f'person:{person_id}')) == 1
    # its own list shows its own person only, and the photo of ours is no download for it
    await open_page(user, '/unit/persons', '新增单位人员')
    assert [row['id'] for row in person_table(user).rows] == [w['q']]
    response = await user.http_client.get(f'/files/{photo}')
    assert response.status_code == 404
    assert len(denials(f'file:{photo}')) == 1


SIGN_IN = {'self': ('个人用户', lambda w: f.person_phone(30)), 'other_person': ('个人用户', lambda w: f.person_phone(32)),
           'active_person': ('个人用户', lambda w: f.person_phone(31)),
           'pending_unit': ('单位用户', lambda w: w['acc_c']), 'reviewer': ('管理人员', lambda w: 'rev_u090'),
           'center': ('管理人员', lambda w: 'ctr_u090'), 'admin': ('管理人员', lambda w: 'center_admin')}


@pytest.mark.parametrize('kind', list(SIGN_IN))
async def test_units_persons_pages_are_refused_by_url(user: User, two_units, kind):
    """Only an active unit has 单位人员账号设置: the person itself, another person, a unit not yet
    active and staff are refused the list and every person's page, and the refusal is audited."""
    w = two_units
    _, w['acc_c'] = f.unit_submitted(92)
    f.staff('center_admin', role='center', admin=True)
    if kind == 'active_person':     # P2, approved by unit A: only its role keeps it out
        persons.review(f.actor_of_account(w['acc_a']), w['p2'], 'approve', f.person_get(w['p2']).version, None)
    tab, account = SIGN_IN[kind]
    if tab == '个人用户':
        await login_person(user, {'self': 30, 'active_person': 31, 'other_person': 32}[kind])
    else:
        await login(user, tab, account(w))
    for path in ('/unit/persons', f'/unit/persons/{w["p"]}', f'/unit/persons/{w["q"]}'):
        await open_page(user, path, DENIED)
        dump = page_dump(user)
        assert f.id_number(30) not in dump and f.id_number(32) not in dump and NOT_FOUND not in dump
    objects = [r.object for r in f.audit_rows('permission_denied')]
    assert objects.count('page:/unit/persons') == 1 and objects.count('page:/unit/persons/{person_id}') == 2
    assert f.person_get(w['p']).state == f.person_get(w['q']).state == 'pending_unit'


@pytest.mark.parametrize('n, other', [(30, 32), (31, 30), (32, 30)])
async def test_a_person_sees_only_its_own_information(user: User, two_units, n, other):
    """/person/info takes no id: it is always the signed-in person's own row."""
    if n == 31:
        persons.review(f.actor_of_account(two_units['acc_a']), two_units['p2'], 'approve',
                       f.person_get(two_units['p2']).version, None)
    await login_person(user, n)
    await open_page(user, '/person/info', '当前状态：')
    dump = page_dump(user)
    assert f.id_number(n) in dump and f'测试人员{n:03d}' in dump
    assert f.id_number(other) not in dump and f'测试人员{other:03d}' not in dump and f.person_phone(other) not in dump


@pytest.mark.parametrize('tab, account', [('管理人员', 'rev_u090'), ('管理人员', 'ctr_u090'),
                                          ('管理人员', 'center_admin'), ('单位用户', 'unit_t090')])
async def test_person_info_is_refused_to_staff_and_units(user: User, two_units, tab, account):
    f.staff('center_admin', role='center', admin=True)
    await login(user, tab, account)
    await open_page(user, '/person/info', DENIED)
    with user.client:
        buttons = [e.text for e in ElementFilter(kind=ui.button, local_scope=False)]
    assert '保存' not in buttons and '提交审核' not in buttons
    assert any(r.object == 'page:/person/info' for r in f.audit_rows('permission_denied'))


# ================================================================ a forged row action
@pytest.mark.parametrize('event', ['act_0', 'act_1'])      # 审核, 详情
async def test_a_forged_row_action_with_another_units_person_is_refused(user: User, two_units, event):
    w = two_units
    await login(user, '单位用户', w['acc_a'])
    await open_page(user, '/unit/persons', '新增单位人员')
    table = person_table(user)
    assert {row['id'] for row in table.rows} == {w['p'], w['p2']}
    assert any(listener.type == event for listener in table._event_listeners.values())
    client = user.client
    emit(user, table, event, w['q'])                        # the browser would only send its own rows' ids
    await wait_for(lambda: user.client is not client and on_page(user, NOT_FOUND),
                   lambda: f'history {user.back_history}')
    await f.settle()
    assert user.back_history[-1] == f'/unit/persons/{w["q"]}'
    dump = page_dump(user)
    assert f.id_number(32) not in dump and '测试人员032' not in dump and f.person_phone(32) not in dump
    assert len(denials(f'person:{w["q"]}')) == 1
    assert f.person_get(w['q']).state == 'pending_unit'


async def test_a_row_action_with_anything_but_an_id_goes_nowhere(user: User, two_units):
    """Only an integer id opens a page; text (even digits), paths, objects are dropped. The last,
    genuine event (its own person) shows when the handlers have run: it is the only navigation."""
    w = two_units
    await login(user, '单位用户', w['acc_a'])
    await open_page(user, '/unit/persons', '新增单位人员')
    table = person_table(user)
    for forged in (str(w['q']), str(w['p2']), '../../person/info', {'id': w['q']}, [w['q']], None):
        emit(user, table, 'act_1', forged)
    emit(user, table, 'act_1', w['p'])
    await wait_for(lambda: on_page(user, f.id_number(30)), lambda: f'history {user.back_history}')
    await f.settle()
    assert user.back_history[-2:] == ['/unit/persons', f'/unit/persons/{w["p"]}'], user.back_history
    assert denials(f'person:{w["q"]}') == []


async def test_a_row_action_after_the_unit_was_disabled_is_refused(user: User, two_units):
    """C5/S4: the open tab's next event, after a center admin disabled the unit, opens nothing."""
    w = two_units
    f.staff('center_admin', role='center', admin=True)
    await login(user, '单位用户', w['acc_a'])
    await open_page(user, '/unit/persons', '新增单位人员')
    table = person_table(user)
    unit_review.review(f.actor_of_account('center_admin'), w['a'], 'disable', f.unit_get(w['a']).version, '单位已注销')
    emit(user, table, 'act_0', w['p'])
    await wait_for(lambda: user.back_history[-1].startswith('/login'), lambda: f'history {user.back_history}')
    await f.settle()
    assert not any(path.startswith(f'/unit/persons/{w["p"]}') for path in user.back_history)
    assert f.person_get(w['p']).state == 'pending_unit'


# ================================================================ a forged review
async def _review_page(user: User, w: dict) -> None:
    await login(user, '单位用户', w['acc_a'])
    await open_page(user, f'/unit/persons/{w["p"]}', '个人信息审核')
    assert on_page(user, f.id_number(30))


async def _click(user: User, label: str, args=None) -> None:
    """Press the review box's button (with forged event arguments when given) and confirm."""
    button = f.button(user, label)
    if args is None:
        button.click()
    else:
        emit(user, next(iter(button.elements)), 'click', args)
    await wait_for(lambda: dialog_open(user) is not None, lambda: f'no confirmation for {label}')
    await confirm(user)


async def test_the_review_is_bound_to_the_pages_person(user: User, two_units):
    """A click carrying another person's id still decides the page's own person, nobody else."""
    w = two_units
    await _review_page(user, w)
    others = fixed(w['p2']), fixed(w['q'])
    await _click(user, '通过', args=w['q'])
    await wait_for(lambda: f.person_get(w['p']).state == 'active', lambda: f'P is {f.person_get(w["p"]).state}')
    await f.settle()
    assert (fixed(w['p2']), fixed(w['q'])) == others


async def test_a_click_after_the_person_moved_on_is_a_conflict_and_changes_nothing(user: User, two_units):
    w = two_units
    p = w['p']
    await _review_page(user, w)
    op = f.actor_of_account(w['acc_a'])
    # another tab of the unit returns P meanwhile
    persons.review(op, p, 'return_', f.person_get(p).version, '请补充职称')
    before, others = fixed(p), (fixed(w['p2']), fixed(w['q']))
    await _click(user, '通过')
    await wait_for(lambda: CONFLICT in f.alert_text(user), lambda: f'alert {f.alert_text(user)!r}')
    await f.settle()
    assert fixed(p) == before and before[0] == 'returned'
    # P corrects and submits again: waiting once more, but the page still holds the old version
    me = f.person_actor(30)
    persons.submit(me, persons.save_info(me, {'title': '高级工程师'}, persons.my_person(me)['version'])['version'])
    before = fixed(p)
    assert before[0] == 'pending_unit'
    f.fill(user, {'审核意见': '信息属实'})
    await _click(user, '退回修改')
    await wait_for(lambda: CONFLICT in f.alert_text(user), lambda: f'alert {f.alert_text(user)!r}')
    await f.settle()
    assert fixed(p) == before
    assert (fixed(w['p2']), fixed(w['q'])) == others
    assert user.back_history[-1] == f'/unit/persons/{p}'        # no 「操作完成」, no move to the list
    assert not user.notify.contains('操作完成')
