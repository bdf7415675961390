"""GLRC entry point: wiring only (settings, middleware, pages, CLI dispatch, ui.run)."""
import os
import sys
from datetime import timedelta

from nicegui import app, background_tasks, ui

from glrc_ui import cli


def serve() -> None:
    settings = cli.prepare()
    from nicegui import storage

    import pages
    from glrc_ui import config, http, runtime
    from glrc_ui.services import files

    runtime.install_fast_expects_arguments()
    files.use_private_tempdir()
    # nothing is in flight before the server starts, unless other processes share the data dir (scale-out)
    files.sweep_orphans(in_flight=files.IN_FLIGHT if settings.redis_url else timedelta(0))
    app.on_startup(lambda: background_tasks.create(_sweep_regularly(), name='upload-sweeper'))
    app.on_startup(lambda: _worker_threads(settings.worker_threads))
    app.on_startup(runtime.freeze_start_up_objects)
    app.on_delete(runtime.release_page)
    if probe_path := os.environ.get('GLRC_GC_LOG'):   # opt-in, for the load scripts (benchmarks/load)
        app.on_startup(lambda: runtime.install_probes(probe_path))
    if not os.environ.get('NICEGUI_USER_SIMULATION'):
        app.on_startup(runtime.install_gc_policy)   # the server's collector, not the test process's
        storage.Storage.path = (settings.data_dir / 'nicegui').resolve()
        app.storage = storage.Storage()
    app.add_middleware(http.BodyLimitMiddleware)
    app.add_middleware(http.SecurityHeadersMiddleware)
    pages.register_all()
    from components import socket_guard
    socket_guard.install()

    @app.get('/healthz', include_in_schema=False)
    async def healthz():
        """200 while the database answers and takes writes and the data dir's disk has room; else 503."""
        from fastapi.responses import JSONResponse
        from nicegui import run

        from glrc_ui import health
        result = await run.io_bound(health.status, settings.data_dir, settings.min_free_mb)
        return JSONResponse(result, status_code=200 if result['status'] == 'ok' else 503)

    ui.run(host=settings.host, port=settings.port, title='桂林市人才服务信息化管理系统', language='zh-CN',
           storage_secret=config.secret(settings, 'storage'), reload=False, show=False,
           favicon='🏛', session_middleware_kwargs={'same_site': 'lax', 'https_only': settings.secure_cookies},
           gzip_middleware_factory=http.gzip_except_files, endpoint_documentation='none', reconnect_timeout=10,
           server_header=False)  # passed on to uvicorn: no `server: uvicorn` banner


def _worker_threads(count: int) -> None:
    """NiceGUI's run.io_bound pool, sized for a peak: its default (CPU count + 4 threads) let a queue of
    password checks hold every thread while pages waited for theirs. Hashing has its own, smaller limit
    (security.HASHING), so the other threads keep serving page data meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    from nicegui import run
    old, run.thread_pool = run.thread_pool, ThreadPoolExecutor(max_workers=count, thread_name_prefix='glrc-io')
    old.shutdown(wait=False)


async def _sweep_regularly() -> None:
    """Replaced and removed uploads lose their bytes once their grace period is over; the query
    planner's statistics are refreshed (a few seconds after start-up, then with each sweep)."""
    import asyncio
    import logging

    from nicegui import run

    from db import engine
    from glrc_ui.services import files
    first = True
    while True:
        await asyncio.sleep(5 if first else 600)
        try:
            if not first:
                await run.io_bound(files.sweep_orphans)
            await run.io_bound(engine.optimize)   # the planner's statistics (SQLite), after start-up
        except Exception:
            logging.getLogger('glrc').exception('upload sweeper failed')
        first = False


if __name__ in {'__main__', '__mp_main__'}:
    argv = sys.argv[1:]
    if not os.environ.get('NICEGUI_USER_SIMULATION') and argv and argv[0] != 'serve':
        sys.exit(cli.run(argv))
    serve()
