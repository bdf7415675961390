"""Append-only audit log (SECURITY L1-L3). Callers pass no secrets: only ids, events and results."""
from sqlmodel import Session

from db.models import AuditLog
from glrc_ui.actor import ANONYMOUS, Actor


def record(session: Session, event: str, *, actor: Actor | None = None, obj: str | None = None,
           result: str = 'ok', detail: str | None = None, ip: str | None = None,
           account: str | None = None) -> None:
    """Add one audit entry to the caller's transaction."""
    actor = actor or ANONYMOUS
    account = _no_phone(account or actor.account)
    session.add(AuditLog(user_id=actor.user_id, account=account, role=actor.role,
                         ip=ip or actor.ip, event=event, object=obj, result=result, detail=detail))


def _no_phone(account: str | None) -> str | None:
    """A person's login is their phone: the log keeps it masked (SECURITY L2)."""
    from glrc_ui.validators import PHONE_RE, mask_phone
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
