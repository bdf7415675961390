"""The read-only detail sheet: label/value rows from a service (built from the entity's schema),
long texts, and a file with its in-page preview."""
from nicegui import ui


def detail_sheet(rows: list[tuple[str, str]]) -> None:
    """Label/value pairs, two pairs a row on wide screens, one on phones."""
    with ui.element('div').classes('glrc-sheet w-full'):
        for label, value in rows:
            with ui.element('div').classes('glrc-sheet-row'):
                ui.label(label).classes('glrc-sheet-label')
                ui.label(value or '—').classes('glrc-sheet-value break-all')


def long_text(label: str, value: str | None) -> None:
    ui.label(label).classes('text-grey-8 mt-3')
    ui.label(value or '—').classes('whitespace-pre-wrap')


def file_preview(file: dict | None, title: str, *, missing: str = '未上传') -> None:
    """A stored file: its name, 新窗口预览 and 下载 links, and the preview in the page."""
    ui.label(title).classes('glrc-title mt-6 mb-2')
    if not file:
        ui.label(missing).classes('text-orange-10')
        return
    source = f'/files/{int(file["id"])}?inline=1'
    with ui.row().classes('items-center gap-4 mb-2'):
        ui.label(file['name'])
        ui.link('新窗口预览', source, new_tab=True)
        ui.link('下载', f'/files/{int(file["id"])}')
    if file['mime'] == 'application/pdf':
        ui.element('iframe').props(f'src="{source}" title="{title}预览"').classes('w-full h-[640px] border rounded')
    else:
        ui.image(source).classes('max-w-3xl border rounded').props(f'alt="{title}"')
