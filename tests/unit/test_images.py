"""Image re-encoding (glrc_ui.services.images): metadata gone, orientation applied, bombs and corrupt
files refused, the file replaced atomically. Images are made in memory with Pillow."""
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from glrc_ui.errors import ValidationError
from glrc_ui.services import images

RED, BLUE = (220, 20, 20), (20, 20, 220)


def two_colour(size=(40, 20), mode='RGB') -> Image.Image:
    """Left half red, right half blue: shows which way the pixels were turned."""
    image = Image.new(mode, size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def photo_with_gps(orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera make, GPS position, orientation, a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = 'PhoneMaker'
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = 'N'
    gps[ExifTags.GPS.GPSLatitude] = (25.0, 16.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = 'E'
    gps[ExifTags.GPS.GPSLongitude] = (110.0, 17.0, 24.0)
    out = io.BytesIO()
    two_colour().save(out, format='JPEG', exif=exif, comment=b'taken at home')
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text('Comment', 'GPS 25.2783N 110.29E')
    info.add_text('Author', 'Zhang San', zip=True)                 # zTXt
    info.add_itxt('Description', '家庭住址：桂林市', lang='zh')      # iTXt
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = 'PhoneMaker'
    out = io.BytesIO()
    two_colour(mode='RGBA').save(out, format='PNG', pnginfo=info, exif=exif)
    return out.getvalue()


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        kinds.append(kind)
        pos += 12 + length
    return kinds


@pytest.fixture
def folder(tmp_path) -> Path:
    """A directory of its own (the unit tests' data dir also lives in tmp_path)."""
    path = tmp_path / 'uploads'
    path.mkdir()
    return path


def write(folder: Path, data: bytes, name: str = 'upload.part') -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def test_jpeg_loses_exif_gps_and_comment(folder):
    original = photo_with_gps()
    with Image.open(io.BytesIO(original)) as before:                 # the sample really carries them
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert before.info['comment'] == b'taken at home'
    path = write(folder, original)
    images.reencode(path, 'jpeg')
    data = path.read_bytes()
    assert b'Exif' not in data and b'PhoneMaker' not in data and b'taken at home' not in data
    assert b'\xff\xfe' not in data[:data.index(b'\xff\xda')]           # no COM segment before the scan
    with Image.open(path) as after:
        assert after.format == 'JPEG' and after.size == (40, 20)
        assert not after.getexif() and 'exif' not in after.info and 'comment' not in after.info
        rgb = after.convert('RGB')
        assert close_to(rgb.getpixel((5, 10)), RED) and close_to(rgb.getpixel((35, 10)), BLUE)


def test_jpeg_orientation_is_applied_to_the_pixels(folder):
    path = write(folder, photo_with_gps(orientation=6))             # 6: shown turned 90° clockwise
    images.reencode(path, 'jpeg')
    with Image.open(path) as after:
        assert after.size == (20, 40)                                 # upright now, no tag needed
        assert ExifTags.Base.Orientation not in after.getexif()
        rgb = after.convert('RGB')
        assert close_to(rgb.getpixel((10, 5)), RED) and close_to(rgb.getpixel((10, 35)), BLUE)


def test_png_loses_text_chunks_and_exif_but_keeps_alpha(folder):
    original = png_with_text()
    assert {b'tEXt', b'zTXt', b'iTXt', b'eXIf'} <= set(png_chunks(original))
    path = write(folder, original)
    images.reencode(path, 'png')
    data = path.read_bytes()
    assert set(png_chunks(data)) <= {b'IHDR', b'IDAT', b'IEND'}
    assert b'Zhang' not in data and b'GPS' not in data
    with Image.open(path) as after:
        assert after.format == 'PNG' and after.mode == 'RGBA' and after.size == (40, 20)
        assert after.text == {} and not after.getexif()
        assert after.getpixel((5, 10)) == RED + (255,)


def test_palette_png_keeps_its_transparency(folder):
    image = two_colour().convert('P')
    out = io.BytesIO()
    image.save(out, format='PNG', transparency=0)
    path = write(folder, out.getvalue())
    images.reencode(path, 'png')
    with Image.open(path) as after:
        assert after.mode == 'P' and after.info.get('transparency') == 0


def oversized_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels (the data never gets decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(b'\x00' * 64))
            + chunk(b'IEND', b''))


def oversized_jpeg(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to claim width × height pixels."""
    out = io.BytesIO()
    Image.new('RGB', (8, 8)).save(out, format='JPEG')
    data = bytearray(out.getvalue())
    sof = data.index(b'\xff\xc0')
    data[sof + 5:sof + 9] = struct.pack('>HH', height, width)
    return bytes(data)


@pytest.mark.parametrize('kind, data', [
    ('png', oversized_png(8000, 5001)),          # 40.008 megapixels
    ('png', oversized_png(100_000, 100_000)),    # beyond Pillow's own bomb limit
    ('jpeg', oversized_jpeg(8000, 5001)),
    ('jpeg', oversized_jpeg(65_000, 65_000)),
], ids=['png-40mp', 'png-10gp', 'jpeg-40mp', 'jpeg-4gp'])
def test_decompression_bombs_are_refused_before_decoding(folder, kind, data):
    path = write(folder, data)
    with pytest.raises(ValidationError) as err:
        images.reencode(path, kind, field='头像')
    assert err.value.field == '头像' and '像素' in err.value.message
    assert path.read_bytes() == data                                   # untouched
    assert [p.name for p in folder.iterdir()] == ['upload.part']    # no temp file left


def test_the_pixel_limit_is_inclusive(folder, monkeypatch):
    assert images.MAX_PIXELS == 40_000_000
    monkeypatch.setattr(images, 'MAX_PIXELS', 40 * 20)                 # the sample's own size
    path = write(folder, photo_with_gps())
    images.reencode(path, 'jpeg')
    monkeypatch.setattr(images, 'MAX_PIXELS', 40 * 20 - 1)
    with pytest.raises(ValidationError):
        images.reencode(path, 'jpeg')


def corrupt_samples() -> dict[str, tuple[str, bytes]]:
    jpeg, png = photo_with_gps(), png_with_text()
    return {
        'truncated jpeg': ('jpeg', jpeg[:len(jpeg) // 2] + b'\xff\xd9'),
        'truncated png': ('png', png[:len(png) // 2]),
        'png labelled jpeg': ('jpeg', png),
        'jpeg labelled png': ('png', jpeg),
        'jpeg header then noise': ('jpeg', b'\xff\xd8\xff\xe0' + bytes(range(256)) * 4 + b'\xff\xd9'),
        'png with bad crc': ('png', png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]),
        'empty': ('png', b''),
    }


@pytest.mark.parametrize('name', list(corrupt_samples()))
def test_corrupt_images_are_refused_with_a_field_message(folder, name):
    kind, data = corrupt_samples()[name]
    path = write(folder, data)
    with pytest.raises(ValidationError) as err:
        images.reencode(path, kind, field='头像')
    assert (err.value.field, err.value.message) == ('头像', '图片文件已损坏，请重新选择')
    assert path.read_bytes() == data
    assert [p.name for p in folder.iterdir()] == ['upload.part']


def test_a_failed_write_leaves_the_original_and_no_temp_file(folder, monkeypatch):
    original = photo_with_gps()
    path = write(folder, original)

    def disk_full(self, fp, *args, **kwargs):
        fp.write(b'\xff\xd8 half')
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(Image.Image, 'save', disk_full)
    with pytest.raises(OSError):                                      # a server fault, not the user's file
        images.reencode(path, 'jpeg')
    assert path.read_bytes() == original
    assert [p.name for p in folder.iterdir()] == ['upload.part']


def test_the_result_replaces_the_file_atomically(folder, monkeypatch):
    """The new bytes arrive by one os.replace from a temp file in the same directory."""
    import os
    path = write(folder, photo_with_gps())
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((Path(src).parent, Path(dst)))
        return real_replace(src, dst)
    monkeypatch.setattr(images.os, 'replace', spy)
    images.reencode(path, 'jpeg')
    assert calls == [(folder, path)]
    assert [p.name for p in folder.iterdir()] == ['upload.part']


def test_an_avatar_is_kept_without_its_gps_while_a_licence_photo_is_kept_byte_for_byte(app_db):
    """The upload path strips photos of people (头像); documents stay as evidence, unchanged."""
    from glrc_ui import security
    from glrc_ui.services import accounts, files
    from tests import factories as f
    owner = f.unit_user('unit_gps', phone='13900139077')
    actor = security.actor_of(f.get_user(owner))
    original = photo_with_gps()
    stored = accounts.set_avatar(actor, original, 'me.jpg')
    kept = files.open_for(actor, stored['id'])[1].read_bytes()
    assert kept != original and not Image.open(io.BytesIO(kept)).getexif()
    accepted = files.accept(original, 'licence.jpg')                    # a document: no strip_images
    assert files.path_of(accepted.stored_name).read_bytes() == original
