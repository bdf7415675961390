"""Choices and cross-checks for a person's information form (SPEC §3.3).

Pure data and functions: no database, no UI. The lists follow the national standards that personnel
files use, so what a person picks here can be exported and exchanged without translation:

- 民族     GB/T 3304-1991 《中国各民族名称的罗马字母拼写法和代码》, numeric codes 01-56 (table 3 order).
           Names as the 1991 edition writes them: 46 德昂族 (崩龙族 in GB 3304-82), 36 毛南族 (毛难族 before 1986).
- 政治面貌 GB/T 4762-1984 《政治面貌代码》, codes 01-13. Short names as forms use them today: 04 民革党员
           (the 1984 text abbreviates 民革会员; 民革 calls its members 党员), 10 九三学社社员, 12 无党派人士
           (the standard's full name is 无党派民主人士).
- 最高学历 GB/T 4658-2006 《学历代码》, the 毕业 entry of each level (11 博士研究生毕业 … 81 小学毕业, 90 其他),
           shortened to the level's name for a dropdown. 研究生班 (17) and 大学普通班 (28) are not offered: the
           first is 硕士 level without a degree (pick 硕士研究生), the second ended in 1976 (pick 大学本科).
- 最高学位 GB/T 6864-2003 《中华人民共和国学位代码》 first level: 2 博士, 3 硕士, 4 学士 (1 名誉博士 is not an
           earned degree and is not offered), plus 无.
"""
from datetime import date, datetime

from glrc_ui import validators
from glrc_ui.validators import id_birth_date, id_gender, id_number_error

ETHNIC_CODES: dict[str, str] = {
    '汉族': '01', '蒙古族': '02', '回族': '03', '藏族': '04', '维吾尔族': '05', '苗族': '06', '彝族': '07',
    '壮族': '08', '布依族': '09', '朝鲜族': '10', '满族': '11', '侗族': '12', '瑶族': '13', '白族': '14',
    '土家族': '15', '哈尼族': '16', '哈萨克族': '17', '傣族': '18', '黎族': '19', '傈僳族': '20', '佤族': '21',
    '畲族': '22', '高山族': '23', '拉祜族': '24', '水族': '25', '东乡族': '26', '纳西族': '27', '景颇族': '28',
    '柯尔克孜族': '29', '土族': '30', '达斡尔族': '31', '仫佬族': '32', '羌族': '33', '布朗族': '34',
    '撒拉族': '35', '毛南族': '36', '仡佬族': '37', '锡伯族': '38', '阿昌族': '39', '普米族': '40',
    '塔吉克族': '41', '怒族': '42', '乌孜别克族': '43', '俄罗斯族': '44', '鄂温克族': '45', '德昂族': '46',
    '保安族': '47', '裕固族': '48', '京族': '49', '塔塔尔族': '50', '独龙族': '51', '鄂伦春族': '52',
    '赫哲族': '53', '门巴族': '54', '珞巴族': '55', '基诺族': '56',
}
ETHNIC_GROUPS: tuple[str, ...] = tuple(ETHNIC_CODES)  # code order: 01 汉族 … 56 基诺族

POLITICAL_STATUS_CODES: dict[str, str] = {
    '中共党员': '01', '中共预备党员': '02', '共青团员': '03', '民革党员': '04', '民盟盟员': '05',
    '民建会员': '06', '民进会员': '07', '农工党党员': '08', '致公党党员': '09', '九三学社社员': '10',
    '台盟盟员': '11', '无党派人士': '12', '群众': '13',
}
POLITICAL_STATUS: tuple[str, ...] = tuple(POLITICAL_STATUS_CODES)

EDUCATION_CODES: dict[str, str] = {
    '博士研究生': '11', '硕士研究生': '14', '大学本科': '21', '大学专科': '31', '中等专科': '41',
    '职业高中': '44', '技工学校': '47', '普通高中': '61', '初中': '71', '小学': '81', '其他': '90',
}
EDUCATION_LEVELS: tuple[str, ...] = tuple(EDUCATION_CODES)  # highest first

DEGREE_CODES: dict[str, str] = {'博士': '2', '硕士': '3', '学士': '4'}
NO_DEGREE = '无'
DEGREES: tuple[str, ...] = (*DEGREE_CODES, NO_DEGREE)

GENDERS: tuple[str, ...] = ('男', '女')


def id_mismatch(id_number: str | None, birth_date: date | str | None, gender: str | None) -> dict[str, str]:
    """{field label: message} for 出生日期 and/or 性别 that disagree with a valid 身份证号.

    Each field is compared on its own: one that is empty (or not a date / not 男 or 女) is left to the
    form's other checks, as is an empty or invalid 身份证号 (then nothing is compared at all)."""
    if not id_number or id_number_error(id_number) is not None:
        return {}
    errors: dict[str, str] = {}
    given_birth = _as_date(birth_date)
    if given_birth is not None:
        expected_birth = id_birth_date(id_number)
        if given_birth != expected_birth:
            errors['出生日期'] = f'出生日期与身份证号不一致（身份证号中为 {expected_birth.isoformat()}）'
    given_gender = (gender or '').strip()
    if given_gender in GENDERS:
        expected_gender = id_gender(id_number)
        if given_gender != expected_gender:
            errors['性别'] = f'性别与身份证号不一致（身份证号中为 {expected_gender}）'
    return errors


def _as_date(value: date | str | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = (value or '').strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


# one masking rule in the app (lists, audit log): validators' functions, re-exported here
mask_id = validators.mask_id
mask_phone = validators.mask_phone
