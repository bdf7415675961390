"""The app's clock; it lives in db/clock.py because rows are stamped with it (db is the lowest floor)."""
from db.clock import SHANGHAI, local, now, set_clock

__all__ = ['SHANGHAI', 'local', 'now', 'set_clock']
