"""The running server's memory and its garbage collector with many open tabs (issue 11, item 4), and
an opt-in probe that lets the load scripts (benchmarks/load) see from outside what happens inside.
Wired in main.py; builds no UI."""
import asyncio
import types
from collections.abc import Callable

from nicegui import background_tasks

# The garbage collector with many open tabs. A full (generation 2) collection walks every tracked
# object that is not frozen: each open tab's page is ~2,000 of them (~40 per element: props, classes,
# style, listeners, slots; census at 300 tabs: 580k objects), so with hundreds of tabs one full
# collection stopped the server for 1–4 s (sockets dropped, the event loop lagged seconds), and the
# collector starts one whenever the objects that survived since the last grew by a quarter, i.e.
# again and again while tabs connect. The policy:
# 1. gc.freeze() after start-up: modules, routes, the app (never garbage) leave the generations.
# 2. release_page: a closed tab's page is freed by reference counting, not left to the collector.
# 3. With MANY_TABS pages or more in memory, whatever survives a generation-1 collection (it has
#    outlived two young collections: open pages, mostly) is frozen at once, in the collector's stop
#    callback, when the young generations are empty. A full collection then walks only what came
#    since, so its pause no longer grows with the number of open tabs; closed pages are still freed
#    at once (2.: reference counting works on frozen objects). With fewer pages the collector works
#    as usual. A full collection that took over FULL_PAUSE_BUDGET freezes its survivors too.
# 4. The price: frozen objects that later become garbage inside a reference cycle (what 2. does not
#    cut: a request's or a socket's own cycles, when they outlived two young collections) are not
#    collected while frozen. When at most QUIET_TABS tabs are connected (evenings), the generations
#    get everything back and one full collection frees it: a long pause that few wait for. A day
#    that is never quiet (a deadline) gets it back at least every RECLAIM_EVERY: one pause of a
#    few seconds an hour at a thousand tabs, instead of memory that grows with every tab opened
#    (~250 frozen objects of garbage per closed tab, measured).
# 5. The thresholds stay CPython's (700, 10, 10): a first threshold of 5,000 was tried and made the
#    young collections 10–30× longer (generation 1: p50 27 → 220 ms at 300 tabs, measured under load).
MANY_TABS = 50
FULL_PAUSE_BUDGET = 0.02        # seconds
QUIET_TABS = 5
QUIET_CHECK = 300.0             # seconds between looks for a quiet moment (4.)
RECLAIM_EVERY = 3600.0          # seconds: at the latest, quiet or not (4.)


def freeze_start_up_objects() -> None:
    """Everything imported and built at start-up lives as long as the process: moved out of the
    garbage collector's generations, a full collection no longer walks it."""
    import gc
    gc.collect()
    gc.freeze()


class GcPolicy:
    """Points 3 and 4 above. install() at start-up (after freeze_start_up_objects); the callback runs in
    whichever thread the collector runs in. pages(): how many pages are in memory (NiceGUI's clients)."""

    def __init__(self, pages: Callable[[], int] = lambda: 0, budget: float = FULL_PAUSE_BUDGET,
                 many: int = MANY_TABS) -> None:
        self.pages, self.budget, self.many = pages, budget, many
        self.started = 0.0
        self.freezes = 0
        self.frozen_at_start = 0
        self.reclaimed_at = 0.0

    def install(self) -> None:
        import gc
        import time
        self.frozen_at_start = gc.get_freeze_count()
        self.reclaimed_at = time.monotonic()
        if self.on_gc not in gc.callbacks:
            gc.callbacks.append(self.on_gc)

    def on_gc(self, phase: str, info: dict) -> None:
        import gc
        import time
        if phase == 'start':
            self.started = time.perf_counter()
            return
        generation = info['generation']
        if generation == 2 and time.perf_counter() - self.started > self.budget \
                or generation >= 1 and self.pages() >= self.many:
            gc.freeze()   # the young generations are empty now: only survivors are frozen
            self.freezes += 1

    def reclaim_when_quiet(self, connected: int, quiet: int = QUIET_TABS,
                           every: float = RECLAIM_EVERY) -> int | None:
        """4.: with at most `quiet` tabs connected, or `every` seconds after the last time, give the
        generations back what was frozen since start-up and collect once; the objects collected,
        None when it did not."""
        import gc
        import time
        overdue = time.monotonic() - self.reclaimed_at >= every
        if (connected > quiet and not overdue) or gc.get_freeze_count() <= self.frozen_at_start:
            return None
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self.frozen_at_start = gc.get_freeze_count()
        self.reclaimed_at = time.monotonic()
        return collected


def _pages() -> int:
    from nicegui import Client
    return len(Client.instances)


def _connected() -> int:
    from nicegui import Client
    return sum(c.has_socket_connection for c in list(Client.instances.values()))


gc_policy = GcPolicy(_pages)


def install_gc_policy() -> None:
    """At start-up: the policy above, and the look for a quiet moment every QUIET_CHECK seconds."""
    gc_policy.install()

    async def look_for_quiet() -> None:
        while True:
            await asyncio.sleep(QUIET_CHECK)
            gc_policy.reclaim_when_quiet(_connected())
    background_tasks.create(look_for_quiet(), name='glrc-gc-reclaim')


def release_page(client) -> None:
    """A closed tab's page is garbage the moment NiceGUI deletes it, but every element of it sits in
    reference cycles (its props, classes and style each hold their own bound `_update` method;
    handlers close over the elements they change), so only a full collection could free it: with
    many open tabs, the long pause this is about. Once NiceGUI has removed the elements (right after
    this handler), the cycles are cut and reference counting frees the page at once."""
    elements = list(client.elements.values())
    asyncio.get_running_loop().call_soon(_cut_cycles, elements)


def _cut_cycles(elements: list) -> None:
    for element in elements:
        for observable in (element._props, element._classes, element._style):
            observable._change_handlers.clear()
        element._event_listeners.clear()
        for name, value in vars(element).items():   # on_value_change, on_pagination_change, … handlers
            if name.endswith('_handlers') and isinstance(value, list):
                value.clear()
        for slot in element.slots.values():
            slot.children.clear()


# NiceGUI asks expects_arguments(handler) for every observable it creates: each element's props,
# classes and style get one with a bound method as its handler, so a page of 150 elements asks 450
# times, and inspect.signature takes 13–17 µs for a bound method: about 7 ms of every page build (a
# tenth of a tab's connect). For plain functions and bound methods the answer follows from the code
# object and the defaults alone; everything else (partials, callable objects, wrapped functions,
# builtins) still goes to NiceGUI's own function. tests/unit/test_runtime_gc.py compares both answers.
_nicegui_expects_arguments = None


def expects_arguments(func) -> bool:
    """NiceGUI's helpers.expects_arguments (a parameter without a default that is not *args/**kwargs),
    answered from the code object for plain functions and bound methods."""
    if type(func) is types.MethodType:
        function, bound = func.__func__, 1
    else:
        function, bound = func, 0
    if type(function) is not types.FunctionType or hasattr(function, '__wrapped__') \
            or hasattr(function, '__signature__'):
        return _nicegui_expects_arguments(func)  # type: ignore[misc]
    code = function.__code__
    positional = code.co_argcount - len(function.__defaults__ or ())
    keyword_only = code.co_kwonlyargcount - len(function.__kwdefaults__ or {})
    return positional - bound > 0 or keyword_only > 0


def install_fast_expects_arguments() -> None:
    """At start-up (and idempotent): NiceGUI's modules call helpers.expects_arguments through the
    package, so replacing it there reaches every caller."""
    global _nicegui_expects_arguments
    from nicegui import helpers
    if helpers.expects_arguments is not expects_arguments:
        _nicegui_expects_arguments = helpers.expects_arguments
        helpers.expects_arguments = expects_arguments


def install_probes(path: str) -> None:
    """GLRC_GC_LOG=path (load measurements only): append one line per event to path, so a load script
    sees from outside what happens inside the server:
      gc <unix time> <generation> <pause ms> <collected>   every collection (gc.callbacks)
      lag <unix time> <ms>                                 event-loop lag, sampled every 100 ms (how late
                                                           a 100 ms sleep wakes up)
      census <unix time> <n tracked> <type>:<count> …      on SIGUSR1: the objects a full collection
                                                           walks (not frozen), the 25 commonest types
      forced <unix time> <ms> <n tracked>                  on SIGUSR2: one timed gc.collect() (the
                                                           objects it walked: not frozen)
      reclaim <unix time> <ms> <collected> <n frozen>      on SIGHUP: what the quiet-moment reclaim (4.)
                                                           would free now, whatever is connected"""
    import collections
    import gc
    import signal
    import time

    from nicegui import Client
    out = open(path, 'a', buffering=1, encoding='utf-8')  # noqa: SIM115 - open for the process's lifetime
    started: list[float] = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == 'start':
            started[0] = time.perf_counter()
        else:
            pause = (time.perf_counter() - started[0]) * 1000
            out.write(f'gc {time.time():.3f} {info["generation"]} {pause:.2f} {info["collected"]}\n')
    gc.callbacks.append(on_gc)

    def census() -> None:
        objects = gc.get_objects()
        counts = collections.Counter(type(o).__qualname__ for o in objects)
        top = ' '.join(f'{name}:{n}' for name, n in counts.most_common(25))
        clients = list(Client.instances.values())
        out.write(f'census {time.time():.3f} {len(objects)} clients:{len(clients)} '
                  f'connected:{sum(c.has_socket_connection for c in clients)} '
                  f'elements:{sum(len(c.elements) for c in clients)} {top}\n')

    def forced() -> None:
        walked = len(gc.get_objects())
        began = time.perf_counter()
        gc.collect()
        out.write(f'forced {time.time():.3f} {(time.perf_counter() - began) * 1000:.2f} {walked}\n')

    def reclaim() -> None:
        frozen = gc.get_freeze_count()
        began = time.perf_counter()
        collected = gc_policy.reclaim_when_quiet(0, quiet=0)
        out.write(f'reclaim {time.time():.3f} {(time.perf_counter() - began) * 1000:.2f} {collected} {frozen}\n')

    async def lag_probe() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.1)
            out.write(f'lag {time.time():.3f} {(time.perf_counter() - began - 0.1) * 1000:.2f}\n')
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, census)
    loop.add_signal_handler(signal.SIGUSR2, forced)
    loop.add_signal_handler(signal.SIGHUP, reclaim)
    background_tasks.create(lag_probe(), name='glrc-lag-probe')
