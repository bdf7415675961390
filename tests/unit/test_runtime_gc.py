"""The garbage-collector policy for many open tabs (glrc_ui/runtime.py, issue 11 item 4): with many
pages in memory what survives a generation-1 collection is frozen; with few, only a full collection
over its pause budget freezes; what was frozen goes back to the collector when (almost) no tab is
connected. No timing: the clock is faked."""
import functools
import gc

import pytest

from glrc_ui import runtime


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Calls(list):
    clock: Clock


@pytest.fixture
def calls(monkeypatch):
    """gc.freeze / unfreeze / collect recorded instead of done; time.perf_counter faked."""
    import time
    done = Calls()
    clock = Clock()
    monkeypatch.setattr(gc, 'freeze', lambda: done.append('freeze'))
    monkeypatch.setattr(gc, 'unfreeze', lambda: done.append('unfreeze'))
    monkeypatch.setattr(gc, 'collect', lambda *a: done.append('collect') or 0)
    monkeypatch.setattr(time, 'perf_counter', clock)
    done.clock = clock
    return done


def collection(policy: runtime.GcPolicy, calls, generation: int, seconds: float) -> None:
    policy.on_gc('start', {'generation': generation})
    calls.clock.now += seconds
    policy.on_gc('stop', {'generation': generation, 'collected': 0, 'uncollectable': 0})


def test_a_long_full_collection_freezes_its_survivors(calls):
    policy = runtime.GcPolicy(lambda: 3, budget=0.02, many=50)
    collection(policy, calls, 2, 0.5)
    assert calls == ['freeze'] and policy.freezes == 1


def test_with_few_pages_the_collector_works_as_usual(calls):
    policy = runtime.GcPolicy(lambda: 49, budget=0.02, many=50)
    collection(policy, calls, 2, 0.01)
    collection(policy, calls, 1, 0.5)
    collection(policy, calls, 0, 0.5)
    assert calls == []


@pytest.mark.parametrize('generation', [1, 2])
def test_with_many_pages_the_survivors_of_older_collections_are_frozen(calls, generation):
    policy = runtime.GcPolicy(lambda: 50, budget=0.02, many=50)
    collection(policy, calls, generation, 0.001)    # however short
    assert calls == ['freeze']


def test_young_collections_never_freeze(calls):
    policy = runtime.GcPolicy(lambda: 1_000, budget=0.02, many=50)
    collection(policy, calls, 0, 0.5)                # however long, however many pages
    assert calls == []


def test_frozen_objects_go_back_to_the_collector_only_when_few_tabs_are_connected(calls, monkeypatch):
    import time
    policy = runtime.GcPolicy()
    policy.frozen_at_start, policy.reclaimed_at = 100, time.monotonic()   # not overdue
    monkeypatch.setattr(gc, 'get_freeze_count', lambda: 5_000)
    assert policy.reclaim_when_quiet(connected=6, quiet=5) is None
    assert calls == []
    assert policy.reclaim_when_quiet(connected=5, quiet=5) == 0
    assert calls == ['unfreeze', 'collect', 'freeze']
    assert policy.frozen_at_start == 5_000                # what is frozen now is the new start


def test_a_day_that_is_never_quiet_gets_the_frozen_objects_back_every_hour(calls, monkeypatch):
    import time
    now = [1_000.0]
    monkeypatch.setattr(time, 'monotonic', lambda: now[0])
    monkeypatch.setattr(gc, 'get_freeze_count', lambda: 5_000)
    policy = runtime.GcPolicy()
    policy.frozen_at_start, policy.reclaimed_at = 100, now[0]
    now[0] += runtime.RECLAIM_EVERY - 1
    assert policy.reclaim_when_quiet(connected=800) is None and calls == []
    now[0] += 1
    assert policy.reclaim_when_quiet(connected=800) == 0
    assert calls == ['unfreeze', 'collect', 'freeze'] and policy.reclaimed_at == now[0]


def test_nothing_to_give_back_when_nothing_was_frozen_since_start_up(calls, monkeypatch):
    policy = runtime.GcPolicy()
    policy.frozen_at_start = 5_000
    monkeypatch.setattr(gc, 'get_freeze_count', lambda: 5_000)
    assert policy.reclaim_when_quiet(connected=0) is None
    assert calls == []


def test_install_hooks_the_collector_once_and_keeps_its_thresholds():
    before, callbacks = gc.get_threshold(), list(gc.callbacks)
    policy = runtime.GcPolicy()
    try:
        policy.install()
        policy.install()                                   # a second start-up (tests) adds nothing
        assert gc.get_threshold() == before
        assert gc.callbacks.count(policy.on_gc) == 1
    finally:
        gc.callbacks[:] = callbacks
        gc.set_threshold(*before)


def test_frozen_survivors_are_still_freed_by_reference_counting():
    """What the policy relies on: freezing takes objects out of the collector's walk, not out of
    reference counting (a closed tab's page, its cycles cut, is freed at once even when frozen)."""
    import weakref

    class Node:
        pass
    node = Node()
    ref = weakref.ref(node)
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        del node
        assert ref() is None
    finally:
        gc.unfreeze()


def test_a_real_collection_freezes_from_its_callback():
    """gc.freeze() from the collector's stop callback (CPython allows it; the young generations are
    empty then): what survived is frozen, a full collection no longer walks it."""
    policy = runtime.GcPolicy(lambda: 100, many=50)
    gc.callbacks.append(policy.on_gc)
    try:
        kept = [[i] for i in range(1_000)]
        before = gc.get_freeze_count()
        gc.collect(1)
        assert gc.get_freeze_count() >= before + len(kept)
        assert not any(o is kept for o in gc.get_objects())          # out of the collector's walk
    finally:
        gc.callbacks.remove(policy.on_gc)
        gc.unfreeze()


# ---- expects_arguments without inspect.signature -------------------------------------------------

class _Handlers:
    def plain(self): ...
    def event(self, e): ...
    def optional(self, e=None): ...
    def star(self, *args, **kwargs): ...
    def keyword(self, *, e): ...
    def keyword_default(self, *, e=1): ...
    async def async_event(self, e): ...

    @classmethod
    def cls_event(cls, e): ...

    @staticmethod
    def static_event(e): ...

    def __call__(self, e): ...


def _decorated(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def _positional_only(e, /): ...
def _positional_only_default(e=1, /): ...
def _mixed(a, b=1, *args, c, d=2, **kwargs): ...


def test_expects_arguments_answers_as_nicegui_does_for_every_kind_of_handler():
    from nicegui.helpers.functions import expects_arguments as nicegui_answer
    h = _Handlers()
    handlers = [h.plain, h.event, h.optional, h.star, h.keyword, h.keyword_default, h.async_event, h.cls_event,
                h.static_event, h, _Handlers.event, _Handlers.plain, lambda: None, lambda e: None,
                lambda e=None: None, lambda *a: None, lambda **k: None, _positional_only, _positional_only_default,
                _mixed, functools.partial(_mixed, 1), functools.partial(_mixed, 1, c=2), _decorated(lambda: None),
                _decorated(lambda e: None), print, len, runtime.release_page]
    runtime.install_fast_expects_arguments()
    answers = [runtime.expects_arguments(fn) for fn in handlers]
    assert answers == [nicegui_answer(fn) for fn in handlers]
    assert answers.count(True) >= 10 and answers.count(False) >= 10   # both answers are covered


def test_the_fast_expects_arguments_is_what_nicegui_calls():
    from nicegui import helpers
    runtime.install_fast_expects_arguments()
    runtime.install_fast_expects_arguments()   # twice: still one layer over NiceGUI's own
    assert helpers.expects_arguments is runtime.expects_arguments
    assert runtime._nicegui_expects_arguments is not runtime.expects_arguments
    from nicegui import observables
    seen = []
    observables.ObservableDict({}, on_change=lambda: seen.append('no args'))['a'] = 1
    observables.ObservableDict({}, on_change=lambda e: seen.append(type(e).__name__))['a'] = 1
    assert seen == ['no args', 'ObservableChangeEventArguments']
