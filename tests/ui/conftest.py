import pytest


@pytest.fixture(autouse=True)
def _fresh_app(app_db):
    yield app_db
