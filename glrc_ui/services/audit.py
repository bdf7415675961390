"""Append-only audit log (SECURITY L1-L3). Callers pass no secrets: only ids, events and results."""
from dataclasses import dataclass

from sqlmodel import Session

from db.models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who acts, as known at the time of the action (plain data, never an ORM row)."""
    user_id: int | None
    account: str | None
    role: str | None
    ip: str | None = None
    org_id: int | None = None
    is_admin: bool = False
    display_name: str = ''
    status: str = 'active'
    must_change_password: bool = False


ANONYMOUS = Actor(None, None, None)


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
