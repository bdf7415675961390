"""Uploaded images re-encoded with Pillow: upright, same format, pixels only (no EXIF, GPS, comments,
text chunks or colour profiles), so what a phone wrote about where and how a photo was taken is not kept."""
import os
import secrets
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from glrc_ui.errors import ValidationError

MAX_PIXELS = 40_000_000          # a 20 MB upload may still unpack to gigabytes (decompression bomb)
JPEG_QUALITY = 90
CORRUPT = '图片文件已损坏，请重新选择'
TOO_LARGE = f'图片像素过多（最多 {MAX_PIXELS // 10_000} 万像素），请缩小后重新上传'
_FORMATS = {'jpeg': 'JPEG', 'png': 'PNG'}


def reencode(path: Path, kind: str, *, field: str = '图片') -> None:
    """Rewrite the image at `path` in place as a fresh `kind` ('jpeg' or 'png') file: EXIF orientation
    applied, no metadata. Atomic: a temp file beside it, then os.replace. Blocking (call off the event
    loop). Raises ValidationError(field, …) for a corrupt or too large image; the file is then unchanged."""
    image_format = _FORMATS[kind]
    clean = _decode(Path(path), image_format, field)
    _replace(Path(path), clean, image_format)


def _decode(path: Path, image_format: str, field: str) -> Image.Image:
    """The image's pixels, upright, with nothing else attached (only PNG transparency survives)."""
    try:
        with Image.open(path, formats=[image_format]) as image:
            width, height = image.size           # from the header: nothing is decoded yet
            if width * height > MAX_PIXELS:
                raise ValidationError(field, TOO_LARGE)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(field, TOO_LARGE) from None
    except Exception:  # noqa: BLE001 - Pillow reports bad input as OSError, SyntaxError, ValueError, struct.error …
        raise ValidationError(field, CORRUPT) from None
    kept: dict[str | tuple[int, int], Any] = (
        {'transparency': upright.info['transparency']} if 'transparency' in upright.info else {})
    upright.info = kept                          # drops exif, icc_profile, comment, dpi, PNG text …
    return upright


def _replace(path: Path, image: Image.Image, image_format: str) -> None:
    # named *.part so that the upload sweeper removes it if the process dies right here
    tmp = path.with_name(f'{secrets.token_hex(16)}.part')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, 'wb') as out:
            if image_format == 'JPEG':
                image.save(out, format='JPEG', quality=JPEG_QUALITY)
            else:
                image.save(out, format='PNG')
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
