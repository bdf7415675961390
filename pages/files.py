"""Authorised file downloads (SECURITY F3-F4): plain routes, not pages."""
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse
from nicegui import app, run

from glrc_ui import security
from glrc_ui.http import client_ip


def register() -> None:
    @app.get('/files/{file_id}', include_in_schema=False)
    async def download(file_id: int, request: Request, inline: int = 0):
        token = app.storage.user.get('token')
        actor = await run.io_bound(security.resolve_session, token, ip=client_ip(request))
        if actor is None:
            raise HTTPException(status_code=401, detail='请先登录')
        if actor.must_change_password:
            raise HTTPException(status_code=403, detail='请先修改密码')
        from glrc_ui.services import files
        found = await run.io_bound(files.open_for, actor, file_id)
        if found is None:
            raise HTTPException(status_code=404, detail='文件不存在或无权访问')
        info, path = found
        return file_response(info, path, inline=bool(inline))


def file_response(info: dict, path, *, inline: bool) -> FileResponse:
    name = info['name']
    ascii_name = ''.join(ch if ch.isascii() and ch.isalnum() or ch in '._-' else '_' for ch in name) or 'file'
    disposition = 'inline' if inline else 'attachment'
    headers = {
        'Content-Disposition': f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
    }
    return FileResponse(path, media_type=info['mime'], headers=headers)
