import pytest
from nicegui.testing import User

from tests import factories as f


@pytest.fixture(autouse=True)
def _fresh_app(app_db, monkeypatch):
    """A fresh database per page test, and argon2 at minimum cost (page tests log in a lot)."""
    f.cheap_hashing(monkeypatch)
    yield app_db


@pytest.fixture
async def user(user: User):
    """The plugin's simulated user, let go only once its pages have finished building."""
    yield user
    await f.settle()
