"""The read-only detail sheet: label/value rows from a service (built from the entity's schema),
long texts, and a file with its in-page preview."""
from nicegui import ui

from components.dialogs import heading


def detail_sheet(rows: list[tuple[str, str]]) -> None:
    """Label/value pairs, two pairs a row on wide screens, one on phones."""
    with ui.element('div').classes('glrc-sheet w-full'):
        for label, value in rows:
            with ui.element('div').classes('glrc-sheet-row'):
                ui.label(label).classes('glrc-sheet-label')
                ui.label(value or '—').classes('glrc-sheet-value break-words min-w-0')


def long_text(label: str, value: str | None) -> None:
    ui.label(label).classes('text-grey-8 mt-3')
    ui.label(value or '—').classes('whitespace-pre-wrap')


def file_preview(file: dict | None, title: str, *, missing: str = '未上传', level: int = 2) -> None:
    """A stored file: its name, 新窗口预览 and 下载 links, and the preview in the page."""
    heading(title, level).classes('mt-6 mb-2' if level == 2 else 'mt-2 mb-1 text-base break-all')
    if not file:
        ui.label(missing).classes('text-deep-orange-10')
        return
    source = f'/files/{int(file["id"])}?inline=1'
    with ui.row().classes('items-center gap-4 mb-2'):
        ui.label(file['name']).classes('break-all')
        ui.link('新窗口预览', source, new_tab=True).props(f'aria-label="新窗口预览{title}"')
        ui.link('下载', f'/files/{int(file["id"])}').props(f'aria-label="下载{title}"')
    if file['mime'] == 'application/pdf':
        pdf_preview(source, title)
    else:
        ui.image(source).classes('max-w-3xl w-full border rounded').props(f'alt="{title}"')


def pdf_preview(source: str, title: str) -> None:
    """The PDF in the page where the browser has a PDF viewer (desktop browsers); elsewhere (most
    phones) a box with the 新窗口预览 link. `navigator.pdfViewerEnabled` tells which."""
    frame_box = ui.element('iframe').props(f'src="{source}" title="{title}预览"') \
        .classes('w-full h-[70vh] min-h-[420px] border rounded glrc-pdf-frame')
    with ui.element('div').classes('w-full p-6 border rounded bg-grey-2 text-center glrc-pdf-fallback hidden'):
        ui.label('当前浏览器不能在页面内显示 PDF。').classes('text-grey-10')
        ui.link('新窗口预览', source, new_tab=True).props(f'aria-label="在新窗口预览{title}"').classes('text-base')
    ui.run_javascript(
        f"if (navigator.pdfViewerEnabled === false) {{"
        f" const f = document.getElementById('c{frame_box.id}'); if (f) f.remove();"
        f" document.querySelectorAll('.glrc-pdf-fallback').forEach(e => e.classList.remove('hidden')); }}")
