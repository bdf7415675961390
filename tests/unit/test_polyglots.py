"""Late polyglots (SECURITY F2, issue 7 item 7): HTML/script anywhere in a PDF, JPEG or PNG is refused,
not only in its first kilobyte; real files (compressed streams, noise pixels) still pass."""
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from glrc_ui import config
from glrc_ui.actor import Actor
from glrc_ui.errors import ValidationError
from glrc_ui.pdf import simple_pdf
from glrc_ui.services import files
from tests import factories as f

MB = files.MB
REFUSED = '文件内容不是有效的'
SCRIPT = b'<script>alert(document.cookie)</script>'


@pytest.fixture
def actor():
    user_id = f.person('13800138000')
    return Actor(user_id, '13800138000', 'person', f.IP)


def refused(data: bytes, name: str) -> str:
    with pytest.raises(ValidationError) as err:
        files.accept(data, name)
    assert not [p for p in config.current().upload_dir.rglob('*') if p.is_file()]   # nothing kept
    return err.value.message


# ---------------------------------------------------------------- real files (seeded: the same bytes every run)

def noise_image(side: int, seed: int, mode: str = 'RGB') -> Image.Image:
    channels = len(mode)
    return Image.frombytes(mode, (side, side), random.Random(seed).randbytes(side * side * channels))


def jpeg(side: int, seed: int = 1, quality: int = 90) -> bytes:
    out = io.BytesIO()
    noise_image(side, seed).save(out, format='JPEG', quality=quality)
    return out.getvalue()


def png(side: int, seed: int = 1, mode: str = 'RGB') -> bytes:
    out = io.BytesIO()
    noise_image(side, seed, mode).save(out, format='PNG')
    return out.getvalue()


def pillow_pdf(side: int, seed: int = 1) -> bytes:
    """A scan as phones and scanners make it: one page holding a JPEG (DCTDecode)."""
    out = io.BytesIO()
    noise_image(side, seed).save(out, format='PDF', resolution=150)
    return out.getvalue()


def flate_pdf(pages: int, image_side: int, seed: int = 1) -> bytes:
    """A larger PDF: compressed (FlateDecode) text pages and a raw noise image, with a correct xref."""
    rnd = random.Random(seed)
    objects: list[bytes] = [b'<< /Type /Catalog /Pages 2 0 R >>', b'']   # the page tree is filled in below
    image = zlib.compress(rnd.randbytes(image_side * image_side * 3))
    objects.append(b'<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB '
                   b'/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n' % (image_side, image_side, len(image))
                   + image + b'\nendstream')
    objects.append(b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>')
    kids = []
    for page in range(pages):
        text = ' '.join(f'(Line {n} of page {page}: {rnd.random():.12f}) Tj 0 -14 Td' for n in range(50))
        content = zlib.compress(f'q 200 0 0 200 50 50 cm /Im1 Do Q BT /F1 10 Tf 40 800 Td {text} ET'.encode())
        objects.append(b'<< /Length %d /Filter /FlateDecode >>\nstream\n' % len(content) + content + b'\nendstream')
        objects.append(b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R '
                       b'/Resources << /Font << /F1 4 0 R >> /XObject << /Im1 3 0 R >> >> >>' % (len(objects)))
        kids.append(len(objects))
    objects[1] = b'<< /Type /Pages /Kids [%s] /Count %d >>' % (b' '.join(b'%d 0 R' % k for k in kids), pages)
    out, offsets = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % number + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1) + b''.join(b'%010d 00000 n \n' % o for o in offsets)
    out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objects) + 1, xref)
    return bytes(out)


def padded_pdf(size: int, seed: int = 2) -> bytes:
    """A valid PDF of about `size` bytes: one binary stream of random bytes (like a compressed one)."""
    head, body = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', simple_pdf(['padded'])[len(b'%PDF-1.4\n'):]
    fill = random.Random(seed).randbytes(size - len(head) - len(body) - 64)
    blob = b'99 0 obj\n<< /Length %d >>\nstream\n' % len(fill) + fill + b'\nendstream\nendobj\n'
    return head + blob + body


def insert(data: bytes, at: int, payload: bytes) -> bytes:
    return data[:at] + payload + data[at:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


GENUINE = {
    'simple_pdf': lambda: simple_pdf(['营业执照', 'Licence <no. 42> (copy)', 'a' * 80]),
    'flate pdf 12 pages': lambda: flate_pdf(pages=12, image_side=900),
    'pillow pdf 2000': lambda: pillow_pdf(2000),
    'padded pdf 19 MB': lambda: padded_pdf(19 * MB),
    'jpeg 300': lambda: jpeg(300, seed=3),
    'jpeg 1200 q95': lambda: jpeg(1200, seed=4, quality=95),
    'jpeg 2000': lambda: jpeg(2000, seed=5),
    'png 300': lambda: png(300, seed=6),
    'png 2000': lambda: png(2000, seed=7),
    'png 1500 rgba': lambda: png(1500, seed=8, mode='RGBA'),
}


@pytest.mark.parametrize('case', list(GENUINE))
def test_real_files_with_compressed_or_noise_data_are_accepted(case):
    data = GENUINE[case]()
    accepted = files.accept(data, case)
    assert accepted.size == len(data) and accepted.mime in files.MIME.values()
    assert files.path_of(accepted.stored_name).read_bytes() == data


def test_a_genuine_file_is_stored_with_its_row(actor):
    data = jpeg(2000, seed=5)
    assert files.store(data, 'photo.jpg', kind='doc', entity='avatar', entity_id=actor.user_id,
                       actor=actor)['mime'] == 'image/jpeg'


# ---------------------------------------------------------------- late polyglots

def pdf_with_script_after_5_kb() -> bytes:
    data = simple_pdf([f'line {n}' for n in range(400)])
    assert len(data) > 6 * 1024
    return insert(data, data.index(b'\n', 5 * 1024) + 1, b'%' + SCRIPT + b'\n')


def pdf_with_script_across_the_1_mb_chunk_boundary() -> bytes:
    data = padded_pdf(3 * MB // 2)
    # '<scr' ends the first 1 MB chunk that _check reads, 'ipt>…' starts the second
    return insert(data, MB - 4, SCRIPT)


def jpeg_with_html(where: str) -> bytes:
    data = jpeg(600, seed=9)
    assert data.endswith(b'\xff\xd9')
    html = b'<html><body>' + SCRIPT + b'</body></html>'
    return data[:-2] + html + data[-2:] if where == 'before EOI' else data + html


def png_with_svg_in_a_late_chunk() -> bytes:
    data = png(300, seed=10)
    iend = data.rindex(b'IEND') - 4
    late = png_chunk(b'tEXt', b'Comment\x00<SVG onload=alert(1)>')
    assert iend > 100 * 1024
    return data[:iend] + late + data[iend:]


LATE = {
    'pdf <script> after 5 KB': (pdf_with_script_after_5_kb, 'late.pdf'),
    'pdf <script> across 1 MB': (pdf_with_script_across_the_1_mb_chunk_boundary, 'straddle.pdf'),
    'jpeg <html> before EOI': (lambda: jpeg_with_html('before EOI'), 'photo.jpg'),
    'jpeg <html> after EOI': (lambda: jpeg_with_html('after EOI'), 'photo.jpg'),
    'png <svg in a late chunk': (png_with_svg_in_a_late_chunk, 'photo.png'),
    'pdf javascript: URI late': (lambda: insert(padded_pdf(64 * 1024), 40 * 1024,
                                                b'<< /S /URI /URI (JavaScript:alert(1)) >>'), 'link.pdf'),
    'pdf <iframe at the very end': (lambda: padded_pdf(8 * 1024) + b'%<IFRAME', 'end.pdf'),
}


@pytest.mark.parametrize('case', list(LATE))
def test_html_after_the_first_kilobyte_is_refused(case):
    make, name = LATE[case]
    data = make()
    assert files.sniff(data[:2048], data[-2048:]) is not None          # the head and tail alone look fine
    assert REFUSED in refused(data, name)


def test_late_polyglots_are_refused_through_store_too(actor):
    with pytest.raises(ValidationError) as err:
        files.store(pdf_with_script_across_the_1_mb_chunk_boundary(), 'x.pdf', kind='doc', entity='avatar',
                    entity_id=actor.user_id, actor=actor, field='营业执照')
    assert err.value.field == '营业执照' and REFUSED in err.value.message


def test_the_straddling_pdf_is_refused_for_its_marker_only():
    data = pdf_with_script_across_the_1_mb_chunk_boundary()
    assert data[MB - 4:MB] == b'<scr' and data[MB:MB + 4] == b'ipt>'
    files.accept(data.replace(SCRIPT, b'%' * len(SCRIPT)), 'same-without-marker.pdf')   # accepted


# ---------------------------------------------------------------- the scanner itself

@pytest.mark.parametrize('marker', [b'<html>', b'<SCRIPT ', b'<!DOCTYPE html', b'<svg/', b'<Body\n', b'<iframe\t',
                                    b'<object>', b'<embed ', b'javascript:', b'JAVASCRIPT:'])
def test_a_marker_is_found_wherever_the_chunks_split_it(marker):
    data = b'\x00' * 50 + marker + b'\x00' * 50
    for cut in range(len(data) + 1):
        for cut2 in (cut, min(len(data), cut + 3)):
            scan = files.MarkupScan()
            for chunk in (data[:cut], data[cut:cut2], data[cut2:]):
                scan.feed(chunk)
            assert scan.close(), (marker, cut, cut2)


@pytest.mark.parametrize('data', [b'<svgz>', b'<html5', b'<bodyguard', b'<scripts', b'<< /Type /Embed >>',
                                  b'javascript', b'java script:', b'<s v g>', b'%PDF <</Object 1>>'])
def test_look_alikes_that_a_browser_does_not_read_as_markup_pass(data):
    scan = files.MarkupScan()
    scan.feed(b'\x00' * 20 + data)
    scan.feed(b'\x00' * 20)
    assert not scan.close()


def test_a_tag_name_cut_off_by_the_end_of_the_file_counts():
    scan = files.MarkupScan()
    scan.feed(b'\x00' * 100 + b'<svg')
    assert scan.close()
