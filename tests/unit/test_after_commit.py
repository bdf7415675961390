"""Side effects outside the database happen only after the transaction commits."""
import pytest

from db.engine import session_scope
from db.models import SmsMessage
from glrc_ui.services import sms
from tests import factories as f


def test_a_rolled_back_transaction_leaves_no_outbox_line():
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            sms.send_message(s, '13800138000', '【桂林市人才服务】测试', 'notice')
            raise RuntimeError('fails before commit')
    assert f.outbox_lines() == []
    assert f.count_rows(SmsMessage) == 0


def test_a_committed_message_is_in_the_database_and_the_outbox():
    with session_scope() as s:
        sms.send_message(s, '13800138000', '【桂林市人才服务】测试', 'notice')
    assert [line['text'] for line in f.outbox_lines()] == ['【桂林市人才服务】测试']
    assert f.count_rows(SmsMessage) == 1
