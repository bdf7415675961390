"""What a user sees when something unexpected breaks: a Chinese message, never a traceback."""
import logging

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from nicegui import app, ui
from nicegui.client import Client
from nicegui.page import page as nicegui_page
from starlette.exceptions import HTTPException as StarletteHTTPException

from components.frame import SYSTEM_NAME, add_style, status_panel
from glrc_ui.errors import STORAGE_FAILED, is_storage_failure

log = logging.getLogger('glrc')
ACTION_FAILED = '操作未能完成，请稍后重试；如多次出现，请联系市人才服务中心'


def install() -> None:
    app.on_page_exception(_error_page)
    app.on_exception(_event_error)
    app.add_exception_handler(404, _not_found)   # replaces NiceGUI's English one


async def _not_found(request: Request, exception: Exception) -> Response:
    """An unknown URL: a Chinese page with the way home. A route's own 404 (an API) stays JSON."""
    if request.scope.get('endpoint') is not None and not request.scope.get('nicegui_page_path') \
            and isinstance(exception, StarletteHTTPException) and not wants_html(request):
        return await http_exception_handler(request, exception)
    return status_page(request, 404, 'search_off', '页面不存在', '您访问的页面不存在或已被移除，请检查网址。',
                       ('返回首页', '/'))


def wants_html(request: Request) -> bool:
    """A browser opening the address (not a script asking for data)."""
    return 'text/html' in request.headers.get('accept', '')


def status_page(request: Request, status: int, icon: str, title: str, text: str, link: tuple[str, str]) -> Response:
    """A whole Chinese page for an HTTP status (404, a refused or missing file …)."""
    with Client(nicegui_page('', title=f'{title} - {SYSTEM_NAME}'), request=request) as client:
        status_panel(icon, title, text, link)
    return client.build_response(request, status)


def refusal(request: Request, status: int, message: str, *, link: tuple[str, str] = ('返回首页', '/')) -> Response:
    """A refused request: a Chinese page for a browser, {"detail": …} for anything else."""
    if wants_html(request):
        return status_page(request, status, 'block' if status in (401, 403) else 'search_off',
                           message, '如有疑问，请联系市人才服务中心。', link)
    return JSONResponse({'detail': message}, status_code=status)


def _error_page(exception: Exception) -> None:
    log.error('page failed', exc_info=exception)
    error_panel()


def error_panel() -> None:
    add_style()
    with ui.column().classes('w-full items-center mt-24 gap-4'):
        ui.icon('error_outline', size='64px', color='grey')
        ui.label('系统繁忙，页面暂时无法打开，请稍后重试').classes('text-xl')
        ui.label('如多次出现，请联系市人才服务中心。').classes('text-grey-7')
        ui.link('返回首页', '/')


def _event_error(exception: Exception) -> None:
    try:
        ui.notify(STORAGE_FAILED if is_storage_failure(exception) else ACTION_FAILED, type='negative')
    except RuntimeError:
        pass  # no page to tell (e.g. the client is gone); the exception is logged by NiceGUI
