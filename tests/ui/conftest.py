import pytest
from nicegui.testing import User

from tests import factories as f


@pytest.fixture(autouse=True)
def _fresh_app(app_db, monkeypatch):
    """A fresh database per page test, and argon2 at minimum cost (page tests log in a lot)."""
    f.cheap_hashing(monkeypatch)
    yield app_db


# NiceGUI's User.should_see looks 3 times, 0.1 s apart: a page that builds after a click (its data
# comes from a worker thread) can take longer on a busy machine. Page tests wait up to 5 s instead;
# a page that is right is seen at the first look, so this only slows down a failure.
SEE_RETRIES = 50


@pytest.fixture
async def user(user: User, monkeypatch):
    """The plugin's simulated user, let go only once its pages have finished building."""
    should_see = User.should_see

    async def patient_should_see(self, *args, retries: int = SEE_RETRIES, **kwargs):
        return await should_see(self, *args, retries=retries, **kwargs)
    monkeypatch.setattr(User, 'should_see', patient_should_see)
    yield user
    await f.settle()
