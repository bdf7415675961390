"""Reference lists and ID cross-checks of the person information form (SPEC §3.3, issue 9 item 5)."""
from datetime import date, datetime

import pytest
from stdnum.cn import ric

from glrc_ui import person_fields as pf
from glrc_ui import validators


def make_id(born: str = '19850312', seq: str = '123', area: str = '450305') -> str:
    """A valid 18-digit ID; the 17th digit (last of seq) odd = 男, even = 女."""
    body = area + born + seq
    return body + ric.calc_check_digit(body + '?')  # stdnum wants the number with a check digit slot


MALE_1985 = make_id(seq='123')     # 1985-03-12, 男
FEMALE_1985 = make_id(seq='124')   # 1985-03-12, 女


# ---------------------------------------------------------------- lists

def test_56_ethnic_groups_in_gb3304_code_order():
    groups = pf.ETHNIC_GROUPS
    assert len(groups) == 56 and len(set(groups)) == 56
    assert groups[0] == '汉族' and groups[-1] == '基诺族'
    assert [pf.ETHNIC_CODES[name] for name in groups] == [f'{i:02d}' for i in range(1, 57)]
    spot = {'02': '蒙古族', '03': '回族', '04': '藏族', '05': '维吾尔族', '06': '苗族', '07': '彝族', '08': '壮族',
            '10': '朝鲜族', '17': '哈萨克族', '23': '高山族', '29': '柯尔克孜族', '36': '毛南族',
            '45': '鄂温克族', '46': '德昂族', '54': '门巴族', '55': '珞巴族'}
    by_code = {code: name for name, code in pf.ETHNIC_CODES.items()}
    for code, name in spot.items():
        assert by_code[code] == name
    assert all(name.endswith('族') for name in groups)
    assert '崩龙族' not in groups and '毛难族' not in groups  # the names before GB 3304-91


def test_13_political_statuses_in_gb4762_order():
    statuses = pf.POLITICAL_STATUS
    assert statuses == ('中共党员', '中共预备党员', '共青团员', '民革党员', '民盟盟员', '民建会员', '民进会员',
                        '农工党党员', '致公党党员', '九三学社社员', '台盟盟员', '无党派人士', '群众')
    assert [pf.POLITICAL_STATUS_CODES[s] for s in statuses] == [f'{i:02d}' for i in range(1, 14)]


def test_education_degree_and_gender_choices():
    assert pf.EDUCATION_LEVELS[:4] == ('博士研究生', '硕士研究生', '大学本科', '大学专科')
    assert pf.EDUCATION_LEVELS[-1] == '其他' and len(set(pf.EDUCATION_LEVELS)) == len(pf.EDUCATION_LEVELS)
    codes = [pf.EDUCATION_CODES[level] for level in pf.EDUCATION_LEVELS]
    assert codes == sorted(codes)  # GB/T 4658 codes rise as the level falls
    assert pf.DEGREES == ('博士', '硕士', '学士', '无')
    assert pf.DEGREE_CODES == {'博士': '2', '硕士': '3', '学士': '4'}
    assert pf.GENDERS == ('男', '女')


# ---------------------------------------------------------------- id_mismatch

def test_test_ids_are_valid():
    assert validators.id_number_error(MALE_1985) is None and validators.id_gender(MALE_1985) == '男'
    assert validators.id_number_error(FEMALE_1985) is None and validators.id_gender(FEMALE_1985) == '女'


@pytest.mark.parametrize('birth', [date(1985, 3, 12), '1985-03-12', datetime(1985, 3, 12, 8, 30), ' 1985-03-12 '])
def test_agreeing_values_give_nothing(birth):
    assert pf.id_mismatch(MALE_1985, birth, '男') == {}
    assert pf.id_mismatch(FEMALE_1985, birth, '女') == {}
    assert pf.id_mismatch(f' {MALE_1985} ', birth, ' 男 ') == {}


def test_lowercase_x_check_digit_agrees():
    for seq in range(100, 200):
        id_number = make_id(seq=f'{seq:03d}')
        if id_number.endswith('X'):
            break
    else:
        pytest.fail('no ID with check digit X in range')
    assert pf.id_mismatch(id_number.lower(), '1985-03-12', validators.id_gender(id_number)) == {}


def test_birth_date_differs():
    assert pf.id_mismatch(FEMALE_1985, date(1985, 3, 21), '女') == {
        '出生日期': '出生日期与身份证号不一致（身份证号中为 1985-03-12）'}
    assert set(pf.id_mismatch(FEMALE_1985, '1986-03-12', '女')) == {'出生日期'}


def test_gender_differs():
    assert pf.id_mismatch(FEMALE_1985, '1985-03-12', '男') == {'性别': '性别与身份证号不一致（身份证号中为 女）'}
    assert pf.id_mismatch(MALE_1985, '1985-03-12', '女') == {'性别': '性别与身份证号不一致（身份证号中为 男）'}


def test_both_differ():
    assert pf.id_mismatch(FEMALE_1985, date(1990, 1, 1), '男') == {
        '出生日期': '出生日期与身份证号不一致（身份证号中为 1985-03-12）',
        '性别': '性别与身份证号不一致（身份证号中为 女）',
    }


@pytest.mark.parametrize('bad_id', [
    None, '', '   ',
    MALE_1985[:-1],                                           # 17 characters
    MALE_1985[:-1] + ('0' if MALE_1985[-1] != '0' else '1'),  # wrong check digit
    make_id(born='19850230'),                                 # no such date
    make_id(area='999999'),                                   # no such area
])
def test_invalid_or_missing_id_compares_nothing(bad_id):
    assert pf.id_mismatch(bad_id, date(1990, 1, 1), '女') == {}


@pytest.mark.parametrize('birth', [None, '', '  ', 'not a date', '1985-02-30'])
def test_missing_or_unreadable_birth_date_is_left_to_other_checks(birth):
    assert pf.id_mismatch(MALE_1985, birth, '男') == {}
    # the gender is still compared on its own
    assert set(pf.id_mismatch(MALE_1985, birth, '女')) == {'性别'}


@pytest.mark.parametrize('gender', [None, '', '  ', '未知'])
def test_missing_or_unknown_gender_is_left_to_other_checks(gender):
    assert pf.id_mismatch(MALE_1985, '1985-03-12', gender) == {}
    assert set(pf.id_mismatch(MALE_1985, '1990-01-01', gender)) == {'出生日期'}


def test_all_missing():
    assert pf.id_mismatch(None, None, None) == {}


# ---------------------------------------------------------------- masks

def test_mask_id():
    assert pf.mask_id(MALE_1985) == '450305********' + MALE_1985[-4:] and MALE_1985[-4:-1] == '123'
    assert pf.mask_id(' 45030519850312123x ') == '450305********123X'
    assert pf.mask_id(MALE_1985) == validators.mask_id(MALE_1985)  # one masking rule in the app


def test_mask_phone():
    assert pf.mask_phone('13800138000') == '138****8000'
    assert pf.mask_phone(' 13800138000 ') == '138****8000'
    assert pf.mask_phone('13800138000') == validators.mask_phone('13800138000')


@pytest.mark.parametrize('mask', [pf.mask_id, pf.mask_phone])
def test_masks_of_empty_values(mask):
    assert mask(None) == ''
    assert mask('') == ''
    assert mask('   ') == ''


def test_short_values_reveal_nothing():
    for value in ('4503051985031', '450305', '12', '450305198503121'):  # 15 digits: an old-style ID
        assert pf.mask_id(value) == '*' * len(value)
    for value in ('1380013800', '1380', '0773282556'):
        assert pf.mask_phone(value) == '*' * len(value)


def test_long_values_reveal_only_the_ends():
    long_id = '4503051985031212345678'
    assert pf.mask_id(long_id) == '450305********5678'
    long_phone = '+8613800138000'
    assert pf.mask_phone(long_phone) == '+86****8000'
    # nothing from the middle survives
    assert '19850312' not in pf.mask_id(long_id)
    assert '0013' not in pf.mask_phone(long_phone)
