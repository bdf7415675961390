"""The one upload field (avatar, licence, evidence): streamed to the upload temp dir, size refused
before copying, then handed to a service that checks the content and keeps it (files.accept →
record in the service's transaction). Errors appear under the field; the file list is cleared
after every try, so no rejected file lingers as if it were kept."""
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from fastapi import HTTPException, Request
from nicegui import app, run, ui
from nicegui.elements.upload_files import create_file_upload
from starlette.datastructures import UploadFile

from components import forms
from components.auth import guarded
from glrc_ui.actor import Actor
from glrc_ui.errors import ValidationError
from glrc_ui.services import files

DOCUMENTS = '.pdf,.jpg,.jpeg,.png'
HEADER = ('''<div class="q-uploader__header-content row items-center no-wrap q-pa-sm">'''
          '''<div class="col q-uploader__title">{label}</div>'''
          '''<q-spinner v-if="props.isUploading" class="q-uploader__spinner" />'''
          '''<q-btn v-if="props.canAddFiles" flat dense no-caps icon="add_box" label="选择文件" '''
          '''aria-label="{label}：选择文件" @click="props.pickFiles" />'''
          '''<div style="display: none"><q-uploader-add-trigger /></div></div>''')
IMAGES = '.jpg,.jpeg,.png'


def upload_field(label: str, save: Callable[[Actor, Path, str], Any], *, field: str,
                 on_saved: Callable[[Actor, Any], Awaitable[None] | None], roles: tuple[str, ...] | None = None,
                 max_size: int = files.MAX_FILE, accept: str = DOCUMENTS, hint: str = '',
                 password_gate: bool = True) -> ui.upload:
    """save(actor, temp path, original name) runs in a worker thread and raises ValidationError
    when it refuses the file; on_saved(actor, its result) updates the page."""
    limit_text = f'{max_size // files.MB} MB'
    types = '、'.join(t.strip('.').upper() for t in accept.split(',') if t != '.jpeg')
    async def uploaded(actor: Actor, e) -> None:
        binder.clear()   # a new try: the last refusal no longer applies
        tmp = files.temp_path()
        try:
            if e.file.size() > max_size:  # refuse before copying anything
                raise ValidationError(field, f'文件大小不能超过 {limit_text}')
            await e.file.save(tmp)  # streamed to disk, never whole in memory
            result = await run.io_bound(save, actor, tmp, e.file.name)
        finally:
            tmp.unlink(missing_ok=True)
            upload.reset()
        done = on_saved(actor, result)
        if done is not None:
            await done

    def rejected() -> None:
        binder.show(f'文件须为 {limit_text} 以内的 {types} 文件')
        upload.reset()   # the refused file leaves the list: nothing looks as if it were kept

    upload = SingleFileUpload(label=label, auto_upload=True, max_file_size=max_size,
                       on_upload=guarded(uploaded, roles, password_gate=password_gate, errors=lambda: binder),
                       on_rejected=rejected) \
        .props(f'accept="{accept}" flat bordered').classes('w-full max-w-sm glrc-upload')
    # Our own header: Quasar's puts the <input type=file> inside its 「+」 button (a control inside a
    # control, with no name). Here a named button opens the picker; the input sits hidden beside it.
    upload.add_slot('header', HEADER.replace('{label}', html.escape(label)))
    upload.on('added', lambda: binder.clear())
    ui.label(hint or f'{types}，{limit_text} 以内').classes('text-grey-9 text-xs')
    binder = forms.ErrorBinder({}, forms.error_line())
    return upload


class SingleFileUpload(ui.upload):
    """ui.upload whose route takes exactly one file part and no other field: more parts or a plain
    form field answer 400 before any handler runs (a POST with 200 parts made 75 rows before).

    A shim over NiceGUI's own route (same URL, same handler chain); upstream note: Upload could pass
    max_files / max_fields to request.form()."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        app.remove_route(self._registered_url)

        @app.post(self._registered_url, include_in_schema=False)
        async def upload_route(request: Request) -> dict[str, str]:
            if self.is_ignoring_events:
                raise HTTPException(status_code=403, detail='Upload is disabled or hidden')
            async with request.form(max_files=1, max_fields=0) as form:
                parts = list(form.values())
                if len(parts) != 1 or not isinstance(parts[0], UploadFile):
                    raise HTTPException(status_code=400, detail='一次只能上传一个文件')
                files = [await create_file_upload(cast(UploadFile, parts[0]))]
            await self.handle_uploads(files)
            return {'upload': 'success'}
