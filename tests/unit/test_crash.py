"""SECURITY R2: kill -9 in the middle of writing loses nothing committed and leaves no half state."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from db.engine import get_engine
from tests.conftest import TEST_DB_URL

ROOT = Path(__file__).resolve().parents[2]
WRITER = '''
import sys
from glrc_ui import cli
from glrc_ui.demo import credit_code
from glrc_ui.services import units
cli.prepare()
n = 500
while True:
    units.register(f"桂林崩溃测试{n}有限公司", credit_code(n), "张三", f"1390773{n:04d}", f"crash_{n}",
                   "Gl#rc2026Pw", "Gl#rc2026Pw")
    print(n, flush=True)  # printed only after the commit
    n += 1
'''


def test_kill_9_while_registering_keeps_every_commit_and_no_half_unit():
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTEST_')}
    proc = subprocess.Popen([sys.executable, '-c', WRITER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    committed = []
    deadline = time.monotonic() + 60
    while len(committed) < 5 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip().isdigit():
            committed.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(committed) >= 5, 'the writer never got going'
    engine = get_engine()
    engine.dispose()
    with engine.connect() as conn:
        if not TEST_DB_URL:
            assert conn.execute(text('PRAGMA integrity_check')).scalar() == 'ok'
        accounts = set(conn.execute(text("SELECT account FROM app_user WHERE account LIKE 'crash_%'")).scalars())
        units = conn.execute(text("SELECT count(*) FROM unit WHERE name LIKE '桂林崩溃测试%'")).scalar()
    assert {f'crash_{n}' for n in committed} <= accounts  # every acknowledged commit survived
    assert units == len(accounts)  # no unit without its operator (and no operator without its unit)
