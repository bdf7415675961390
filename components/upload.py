"""The one upload field (avatar, licence, evidence): the POST's file part is written once, straight
into the upload temp dir, hashed on the way (glrc_ui.upload_stream); more than the field's limit is
refused while streaming; the file is then moved (renamed, not copied) to the handler's temp path and
handed to a service that checks the content and keeps it (files.accept → record in the service's
transaction). Errors appear under the field; the file list is cleared after every try, so no
rejected file lingers as if it were kept."""
import html
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from nicegui import app, run, ui
from nicegui.elements.upload_files import LargeFileUpload

from components import forms
from components.auth import guarded
from glrc_ui import upload_stream
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
            if e.file.size() > max_size:  # refused while streaming: nothing was kept
                raise ValidationError(field, f'文件大小不能超过 {limit_text}')
            await e.file.save(tmp)  # a streamed upload is renamed, not copied
            result = await run.io_bound(save, actor, tmp, e.file.name)
        finally:
            files.discard_temp(tmp)
            if isinstance(e.file, StreamedUpload):
                e.file.discard()
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


@dataclass
class StreamedUpload(LargeFileUpload):
    """A file part the route has already written into the upload temp dir (upload_stream), with its
    digest remembered: save() moves it (a rename on the same file system) instead of copying it, so
    files.accept neither copies nor re-reads it. When too large, nothing was kept: size() says how
    many bytes came before the route stopped."""
    _size: int = 0

    def __post_init__(self) -> None:
        # removed at the latest when the event is gone, whether or not a handler took the file
        self._finalizer = weakref.finalize(self, files.discard_temp, self._path)

    def size(self) -> int:
        return self._size

    async def save(self, path: str | Path) -> None:
        target = Path(path)
        try:
            files.rename_temp(self._path, target)
        except OSError:   # another file system: copy it as NiceGUI does (then read again by _check)
            await super().save(target)

    def discard(self) -> None:
        files.discard_temp(self._path)


class SingleFileUpload(ui.upload):
    """ui.upload whose route takes exactly one file part and no other field: more parts or a plain
    form field answer 400 before any handler runs (a POST with 200 parts made 75 rows before). The
    part is streamed into the upload temp dir once (upload_stream); past max_file_size the route
    stops reading and answers 413, and the handler still runs to show the size message under the field.

    A replacement of NiceGUI's own route (same URL, same handler chain)."""

    def __init__(self, *args, max_file_size: int = files.MAX_FILE, **kwargs) -> None:
        super().__init__(*args, max_file_size=max_file_size, **kwargs)
        app.remove_route(self._registered_url)
        limit = max_file_size

        @app.post(self._registered_url, include_in_schema=False)
        async def upload_route(request: Request) -> dict[str, str]:
            if self.is_ignoring_events:
                raise HTTPException(status_code=403, detail='Upload is disabled or hidden')
            try:
                received = await upload_stream.receive_one_file(request.headers.get('content-type'),
                                                                request.stream(), limit)
            except upload_stream.Refused as refused:
                raise HTTPException(status_code=refused.status, detail=refused.detail) from None
            name = received.filename.replace('\\', '/').rsplit('/', 1)[-1]  # as NiceGUI's own uploads
            await self.handle_uploads([StreamedUpload(name, received.content_type, received.path, received.size)])
            if received.too_large:
                raise HTTPException(status_code=413, detail=f'文件大小不能超过 {limit // files.MB} MB')
            return {'upload': 'success'}
