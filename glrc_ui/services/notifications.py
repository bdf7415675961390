"""In-app messages (消息)."""
from sqlmodel import Session, col, func, select

from db.engine import read_scope, session_scope
from db.models import Notification
from glrc_ui import clock


def notify(s: Session, user_id: int, title: str, body: str, link: str | None = None) -> None:
    s.add(Notification(user_id=user_id, title=title, body=body, link=link))


def unread_count(user_id: int) -> int:
    with read_scope() as s:
        return s.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, col(Notification.read_at).is_(None))).one()


def list_for(user_id: int, limit: int = 100) -> list[dict]:
    with read_scope() as s:
        rows = s.exec(select(Notification).where(Notification.user_id == user_id)
                      .order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)).all()
        return [{'id': r.id, 'title': r.title, 'body': r.body, 'link': r.link, 'created_at': clock.local(r.created_at),
                 'read': r.read_at is not None} for r in rows]


def mark_all_read(user_id: int) -> None:
    with session_scope() as s:
        for row in s.exec(select(Notification).where(Notification.user_id == user_id,
                                                     col(Notification.read_at).is_(None))).all():
            row.read_at = clock.now()
            s.add(row)


def open_one(user_id: int, notification_id: int) -> str | None:
    """Mark one of the user's messages read; its link (None: not the user's message)."""
    with session_scope() as s:
        row = s.get(Notification, notification_id)
        if row is None or row.user_id != user_id:
            return None
        if row.read_at is None:
            row.read_at = clock.now()
            s.add(row)
        return row.link or '/'
