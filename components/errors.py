"""What a user sees when something unexpected breaks: a Chinese message, never a traceback."""
import logging

from nicegui import app, ui

from components.frame import add_style
from glrc_ui.errors import STORAGE_FAILED, is_storage_failure

log = logging.getLogger('glrc')
ACTION_FAILED = '操作未能完成，请稍后重试；如多次出现，请联系市人才服务中心'


def install() -> None:
    app.on_page_exception(_error_page)
    app.on_exception(_event_error)


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
