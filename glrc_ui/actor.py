"""Who acts: plain data resolved from the session row, passed to every service call."""
from dataclasses import dataclass


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
