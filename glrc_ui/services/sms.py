"""SMS gateway (one interface, `outbox` backend) and one-time codes (SPEC §4, SECURITY O1-O3)."""
import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import timedelta

from sqlmodel import Session, col, func, select

from db.engine import serialize_on, session_scope
from db.models import SmsCode, SmsMessage
from glrc_ui import clock, config

PURPOSES = {'register': '注册', 'login': '登录', 'change_phone': '更换手机号'}
CODE_TTL = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
DAILY_LIMIT = 10
MAX_TRIES = 5


class SmsError(Exception):
    pass


class Gateway:
    """What every SMS backend provides. A real provider is one more subclass."""
    name = 'base'

    def send(self, s: Session, phone: str, text: str, purpose: str, code: str | None = None) -> None:
        raise NotImplementedError


class OutboxGateway(Gateway):
    """Stores each message in the database (codes masked) and appends it to sms_outbox.jsonl."""
    name = 'outbox'
    _lock = threading.Lock()

    def send(self, s: Session, phone: str, text: str, purpose: str, code: str | None = None) -> None:
        stored_text = text.replace(code, '******') if code else text
        s.add(SmsMessage(phone=phone, text=stored_text, purpose=purpose, backend=self.name))
        line = json.dumps({'phone': phone, 'text': text, 'code': code, 'purpose': purpose,
                           'at': clock.now().isoformat()}, ensure_ascii=False)
        path = config.current().sms_outbox

        def append() -> None:  # after commit: no line for a message the database never kept
            with self._lock:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, 'a', encoding='utf-8') as f:
                    f.write(line + '\n')
        s.info.setdefault('after_commit', []).append(append)


_BACKENDS = {'outbox': OutboxGateway}


def gateway() -> Gateway:
    name = config.current().sms_backend
    if name not in _BACKENDS:
        raise SmsError(f'未知的短信通道 {name}')
    return _BACKENDS[name]()


def send_message(s: Session, phone: str, text: str, purpose: str, *, secret: str | None = None) -> None:
    """A message inside the caller's transaction. `secret` (an initial password) is masked in the
    stored record like a code: only the phone ever gets it."""
    gateway().send(s, phone, text, purpose, secret)


def _hash(phone: str, purpose: str, code: str) -> str:
    key = config.secret(config.current(), 'sms').encode()
    return hmac.new(key, f'{phone}|{purpose}|{code}'.encode(), hashlib.sha256).hexdigest()


def issue_code(phone: str, purpose: str, *, deliver: bool = True) -> None:
    """Create and send a code. Raises SmsError with the message for the user on a limit.

    With deliver=False the limits are applied and nothing is sent (login for an unknown phone:
    the caller answers the same way as for a real one)."""
    if purpose not in PURPOSES:
        raise SmsError('验证码用途不正确')
    now = clock.now()
    with session_scope() as s:
        serialize_on(s, f'sms:{phone}')  # parallel requests must not all pass the 60 s and daily checks
        last = s.exec(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                      .order_by(col(SmsCode.created_at).desc())).first()
        if last is not None and now - last.created_at < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - last.created_at)).total_seconds()) + 1
            raise SmsError(f'验证码发送过于频繁，请 {wait} 秒后再试')
        day_start = now - timedelta(days=1)
        sent_today = s.exec(select(func.count()).select_from(SmsCode).where(
            SmsCode.phone == phone, SmsCode.created_at > day_start)).one()
        if sent_today >= DAILY_LIMIT:
            raise SmsError('该手机号今日获取验证码次数已达上限，请明天再试')
        code = f'{secrets.randbelow(10**6):06d}'
        # earlier codes of this purpose die when a new one is issued
        for old in s.exec(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose,
                                                col(SmsCode.used_at).is_(None))).all():
            old.used_at = now
            s.add(old)
        s.add(SmsCode(phone=phone, purpose=purpose, code_hash=_hash(phone, purpose, code),
                      expires_at=now + CODE_TTL, used_at=None if deliver else now))
        if deliver:
            text = f'【桂林市人才服务】您的{PURPOSES[purpose]}验证码为 {code}，5 分钟内有效，请勿告诉他人。'
            gateway().send(s, phone, text, purpose, code)


def check_code(s: Session, phone: str, purpose: str, code: str) -> bool:
    """Consume a code inside the caller's transaction. Wrong tries count; 5 kill the code."""
    code = (code or '').strip()
    now = clock.now()
    serialize_on(s, f'sms:{phone}')  # parallel guesses must each count against the 5 tries
    row = s.exec(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose,
                                       col(SmsCode.used_at).is_(None)).order_by(col(SmsCode.created_at).desc())).first()
    if row is None or row.expires_at <= now or row.attempts >= MAX_TRIES:
        return False
    if hmac.compare_digest(row.code_hash, _hash(phone, purpose, code)):
        row.used_at = now
        s.add(row)
        return True
    row.attempts += 1
    if row.attempts >= MAX_TRIES:
        row.used_at = now
    s.add(row)
    return False


CODE_INVALID = '验证码错误或已失效，请重新获取'
