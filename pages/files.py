"""Authorised file downloads (SECURITY F3-F4): plain routes, not pages."""
from fastapi import Request
from fastapi.responses import FileResponse
from nicegui import app, run

from components.errors import refusal
from glrc_ui import security
from glrc_ui.http import client_ip


def register() -> None:
    @app.get('/files/{file_id}', include_in_schema=False)
    async def download(file_id: str, request: Request, inline: str = ''):
        # Path and query arrive as text: an int annotation would answer FastAPI's 422 JSON (or a 500 for
        # an id past the database's integer range) before the login check. Not a valid id → 404.
        token = app.storage.user.get('token')
        actor = await run.io_bound(security.resolve_session, token, ip=client_ip(request))
        if actor is None:
            return refusal(request, 401, '请先登录', link=('前往登录', '/login'))
        if actor.must_change_password:
            return refusal(request, 403, '请先修改密码', link=('修改密码', '/account/settings'))
        from glrc_ui.services import files
        number = row_id(file_id)
        found = None if number is None else await run.io_bound(files.open_for, actor, number)
        if found is None:
            return refusal(request, 404, '文件不存在或无权访问')
        info, path = found
        return file_response(info, path, inline=inline == '1')


def row_id(text: str) -> int | None:
    """A database id from a URL: plain ASCII digits, positive, within the id columns' INTEGER range
    (PostgreSQL refuses larger values outright); else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


def file_response(info: dict, path, *, inline: bool) -> FileResponse:
    """The file under its original name; Starlette writes Content-Disposition (RFC 6266), with the
    name percent-encoded as filename*=utf-8''… whenever it has anything beyond [A-Za-z0-9_.~/-], so
    quotes, semicolons and line breaks in a name cannot end the header or add one."""
    return FileResponse(path, media_type=info['mime'], filename=info['name'] or 'file',
                        content_disposition_type='inline' if inline else 'attachment',
                        headers={'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store'})
