"""Append-only audit log (SECURITY L1-L3). Callers pass no secrets: only ids, events and results.

An entry's account is the acting user's, or `account=` where there is no actor yet (a failed login,
a registration). Such a name is whatever was typed into a login field — sometimes a password — so
unless the caller says it names an existing account (`account_known=True`), it is stored only as a
keyed token: `?` + 12 hex of HMAC-SHA256 with the data dir's 'audit' secret. The same typed name
always gives the same token, so repeated attempts still correlate, and an operator who wants to know
whether a given name was tried computes `account_token(name)`. Phones are stored masked (L2)."""
import hashlib
import hmac

from sqlmodel import Session

from db.models import AuditLog
from glrc_ui import config
from glrc_ui.actor import ANONYMOUS, Actor
from glrc_ui.validators import PHONE_RE, mask_phone

TOKEN_PREFIX = '?'


def record(session: Session, event: str, *, actor: Actor | None = None, obj: str | None = None,
           result: str = 'ok', detail: str | None = None, ip: str | None = None,
           account: str | None = None, account_known: bool = False) -> None:
    """Add one audit entry to the caller's transaction. `account` without `account_known=True` is
    stored as a token (see the module's docstring); a phone is stored masked either way."""
    actor = actor or ANONYMOUS
    stored = _stored_account(account, known=account_known) if account else _no_phone(actor.account)
    session.add(AuditLog(user_id=actor.user_id, account=stored, role=actor.role,
                         ip=ip or actor.ip, event=event, object=obj, result=result, detail=detail))


def account_token(name: str) -> str:
    """What the log stores for a typed account name that is not known to be an account."""
    key = config.secret(config.current(), 'audit').encode()
    digest = hmac.new(key, name.strip().encode(), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest[:12]


def _stored_account(account: str, *, known: bool) -> str:
    if PHONE_RE.match(account.strip()):
        return mask_phone(account.strip())
    return account if known else account_token(account)


def _no_phone(account: str | None) -> str | None:
    """A person's login is their phone: the log keeps it masked (SECURITY L2)."""
    if account and PHONE_RE.match(account.strip()):
        return mask_phone(account.strip())
    return account


def record_now(event: str, **kwargs) -> None:
    """Audit entry in its own transaction (e.g. a denial, where no other work is done)."""
    from db.engine import session_scope
    with session_scope() as session:
        record(session, event, **kwargs)


def deny(session: Session, *, actor: Actor, obj: str) -> None:
    """A refused access: recorded with the caller's transaction, or on its own when that
    transaction rolls back (the refusal itself usually makes it roll back)."""
    record(session, 'permission_denied', actor=actor, obj=obj, result='denied')
    session.info.setdefault('after_rollback', []).append(
        lambda: record_now('permission_denied', actor=actor, obj=obj, result='denied'))
