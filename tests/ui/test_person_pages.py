"""Person pages through NiceGUI's `user` fixture (issue 9): 个人注册 with the SMS code and the unit
search, the person's menus until active, 个人信息维护 (draft, submit, marks, locks), and the unit's
单位人员账号设置 (masked list, review, 新增单位人员)."""
from nicegui import ElementFilter, ui
from nicegui.testing import User

from glrc_ui.services import persons
from tests import factories as f
from tests.factories import PASSWORD, submit_login
from tests.ui.test_everyday_use import dialog_open, menu
from tests.ui.test_unit_pages import RETRIES, confirm, login, on_page, open_page, texts, wait_for


def select_of(user: User, label: str) -> ui.select:
    with user.client:
        return next(s for s in ElementFilter(kind=ui.select, local_scope=False) if s.props.get('aria-label') == label)


def emit(user: User, element, event: str, args) -> None:
    """What the browser sends when the user types into a select's search box."""
    with user.client:
        for listener_id, listener in list(element._event_listeners.items()):
            if listener.type == event:
                element._handle_event({'listener_id': listener_id, 'args': args})


async def login_person(user: User, n: int) -> None:
    await user.open('/login')
    await submit_login(user, '个人用户', f.person_phone(n), PASSWORD)
    await user.should_see('首页', retries=RETRIES)
    await f.settle()


async def test_self_registration_with_code_and_unit_search(user: User):
    unit_id, _ = f.unit_active(80)
    f.unit_submitted(81)                         # pending: never offered
    await user.open('/login')
    user.find(kind=ui.link, content='个人注册').click()
    await user.should_see('请使用本人手机号注册', retries=RETRIES)
    phone = f.person_phone(20)
    f.fill(user, {'手机号': phone})
    f.button(user, '获取验证码').click()
    await wait_for(lambda: user.notify.contains('验证码已发送'), lambda: f'no code: {f.alert_text(user)!r}')
    unit = select_of(user, '所在单位')
    emit(user, unit, 'inputValue', '没有这个单位')               # no match: the list says so
    await f.settle()
    assert unit.options == {} and '没有找到已通过审核的单位' in unit.slots['no-option'].template
    emit(user, unit, 'inputValue', '测试08')
    await wait_for(lambda: list((unit.options or {}).values()) == ['桂林测试080有限公司'],
                   lambda: f'options: {unit.options}')
    unit.set_value(unit_id)
    f.fill(user, {'验证码': f.last_code(phone, 'register'), '姓名': '黄页面', '身份证号': f.id_number(20),
                  '密码': PASSWORD, '确认密码': PASSWORD})
    f.button(user, '注册').click()
    await user.should_see('注册成功', retries=RETRIES)
    person = persons.my_person(f.person_actor(20))
    assert (person['name'], person['unit_name'], person['state']) == ('黄页面', '桂林测试080有限公司', 'registered')


async def test_registration_shows_each_problem_next_to_its_field(user: User):
    unit_id, _ = f.unit_active(82)
    f.person_registered(21, unit_id)
    await user.open('/register/person')
    await user.should_see('个人注册', retries=RETRIES)
    f.fill(user, {'手机号': f.person_phone(21), '验证码': '123456', '姓名': '重复', '身份证号': f.id_number(22),
                  '密码': PASSWORD, '确认密码': PASSWORD})
    select_of(user, '所在单位').set_options({unit_id: '桂林测试082有限公司'}, value=unit_id)
    f.button(user, '注册').click()
    phone = f.field(user, '手机号').elements.pop()
    await wait_for(lambda: phone.error == '该手机号已注册，请直接登录；如忘记密码可使用验证码登录',
                   lambda: f'phone error {phone.error!r}')
    assert f.field(user, '姓名').elements.pop().value == '重复'           # nothing typed is lost


async def test_a_new_person_sees_only_home_and_account_pages(user: User):
    unit_id, _ = f.unit_active(83)
    f.person_registered(23, unit_id)
    await login_person(user, 23)
    await user.should_see('请先完善个人信息，然后提交所在单位审核')
    await user.should_see('个人信息维护')
    await user.should_not_see('业务办理')
    await open_page(user, '/unit/persons', '无权访问此页面')


async def test_person_info_submit_marks_missing_fields_then_goes_to_the_unit(user: User):
    unit_id, operator = f.unit_active(84)
    person_id = f.person_registered(24, unit_id)
    await login_person(user, 24)
    await open_page(user, '/person/info', '当前状态：')
    assert on_page(user, '桂林测试084有限公司')                             # the unit, read-only
    f.button(user, '提交审核').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no confirmation')
    assert on_page(user, '确定将「测试人员024」的个人信息提交「桂林测试084有限公司」审核吗？')
    await confirm(user)
    await wait_for(lambda: '以下信息未填写或不正确，请补充后再提交审核：民族、最高学历、毕业院校、所学专业' in f.alert_text(user),
                   lambda: f'alert {f.alert_text(user)!r}')
    for label, value in (('民族', '汉族'), ('最高学历', '大学本科')):
        select_of(user, label).set_value(value)
    f.fill(user, {'毕业院校': '桂林理工大学', '所学专业': '土木工程'})
    f.button(user, '提交审核').click()
    await confirm(user)
    await wait_for(lambda: f.person_get(person_id).state == 'pending_unit', lambda: f'{f.alert_text(user)!r}')
    await user.should_see('个人信息正在审核中，暂不能修改。', retries=RETRIES)


async def test_the_unit_reviews_its_person_and_sees_the_list_masked(user: User):
    unit_id, operator = f.unit_active(85)
    person_id = f.person_submitted(25, unit_id)
    await login(user, '单位用户', operator)
    labels = texts(user)                                                # 首页 counts the persons waiting
    assert labels[labels.index('待本单位审核的人员') + 1] == '1', labels
    menu(user, '单位人员账号设置')
    await user.should_see(kind=ui.table, retries=RETRIES)
    await f.settle()
    [row] = user.find(ui.table).elements.pop().rows
    assert row['id_number'] == f.id_number(25)[:6] + '********' + f.id_number(25)[-4:]
    assert row['phone'] == f.person_phone(25)[:3] + '****' + f.person_phone(25)[-4:]
    await open_page(user, f'/unit/persons/{person_id}', '个人信息审核')
    assert on_page(user, f.id_number(25))                               # unmasked only here
    f.fill(user, {'审核意见': '信息属实'})
    f.button(user, '通过').click()
    await confirm(user)
    await wait_for(lambda: f.person_get(person_id).state == 'active', lambda: f'{f.person_get(person_id).state}')


async def test_another_unit_cannot_open_the_person(user: User):
    unit_id, _ = f.unit_active(86)
    person_id = f.person_submitted(26, unit_id)
    _, stranger = f.unit_active(87)
    await login(user, '单位用户', stranger)
    await open_page(user, f'/unit/persons/{person_id}', '该人员不存在或不属于本单位')
    assert f.id_number(26) not in ' '.join(texts(user))
    response = await user.http_client.get('/unit/persons/abc')
    assert response.status_code == 404


async def test_the_unit_creates_a_person(user: User):
    unit_id, operator = f.unit_active(88)
    await login(user, '单位用户', operator)
    await open_page(user, '/unit/persons', '新增单位人员')
    f.button(user, '新增单位人员').click()
    await wait_for(lambda: dialog_open(user) is not None, lambda: 'no dialog')
    dialog = dialog_open(user)
    f.fill(user, {'姓名': '单位新增', '手机号': '138', '身份证号': f.id_number(27)}, within=dialog)
    f.button(user, '保存', within=dialog).click()
    phone_field = f.field(user, '手机号', within=dialog).elements.pop()
    await wait_for(lambda: phone_field.error == '手机号格式不正确，应为 11 位大陆手机号', lambda: f'{phone_field.error!r}')
    f.fill(user, {'手机号': f.person_phone(27)}, within=dialog)
    f.button(user, '保存', within=dialog).click()
    await wait_for(lambda: user.notify.contains('已新增单位人员「单位新增」'), lambda: f'{f.alert_text(user)!r}')
    person = persons.my_person(f.person_actor(27))
    assert person['state'] == 'active' and person['created_by_unit']


async def test_an_inactive_unit_has_no_persons_menu(user: User):
    f.unit_submitted(89)
    await login(user, '单位用户', 'unit_t089')
    await user.should_not_see('单位人员账号设置')
    await open_page(user, '/unit/persons', '无权访问此页面')


async def test_a_person_changes_the_phone_with_a_code_to_the_new_phone(user: User):
    unit_id, _ = f.unit_active(90)
    f.person_registered(28, unit_id)
    await login_person(user, 28)
    await open_page(user, '/account/settings', '更换手机号')
    new_phone = f.person_phone(29)
    f.fill(user, {'新手机号': new_phone})
    f.button(user, '获取验证码').click()
    await wait_for(lambda: user.notify.contains('验证码已发送到新手机号'), lambda: f'{f.alert_text(user)!r}')
    f.fill(user, {'验证码': f.last_code(new_phone, 'change_phone'), '当前密码': 'Wr0ng#Guess'})
    f.button(user, '更换手机号').click()
    current = f.field(user, '当前密码').elements.pop()
    await wait_for(lambda: current.error == '原密码不正确', lambda: f'{current.error!r}')   # next to the field
    f.fill(user, {'当前密码': PASSWORD})
    f.button(user, '更换手机号').click()
    await user.should_see('修改成功，请重新登录', retries=RETRIES)
    assert f.person_actor(29).account == new_phone
