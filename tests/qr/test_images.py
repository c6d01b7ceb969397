"""QR images: drawn with segno, read back with zxing-cpp, and the uploads we refuse."""

import io
import os
import struct
import zlib
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageDraw

from qr import elqr, images
from qr.images import ImageError

LINK = elqr.build(
    elqr.ElqrCode(
        type="dynamic",
        provider_id="kapchyk.kg",
        recipient_id="kent",
        transaction_id="01JZ8H34F4KWB0D8",
        amount_editable=False,
        recipient_editable=False,
        mcc="5812",
        amount=45000,
        name='КАФЕ "КЕНТ"',
    ),
    router="https://qr.kapchyk.kg/",
)
OTHER = "https://app.mbank.kg/qr/#0002010102113212000ac2c.mbank.kg6304abcd"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jpeg(image: Image.Image, quality=80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _qr_image(link=LINK, scale=6) -> Image.Image:
    return Image.open(io.BytesIO(images.render_png(link, scale=scale))).convert("RGB")


def test_png_reads_back():
    assert images.decode_image(images.render_png(LINK)) == [LINK]
    assert images.decode_single(images.render_png(LINK)) == LINK


def test_svg_is_one_inline_element():
    svg = images.render_svg(LINK, title="QR")
    assert svg.startswith("<svg") and "<?xml" not in svg
    root = ElementTree.fromstring(svg)
    assert root.get("class") == "qr" and root.get("width")
    assert root.find("{http://www.w3.org/2000/svg}title").text == "QR"
    fluid = ElementTree.fromstring(images.render_svg(LINK, fluid=True))
    assert fluid.get("viewBox") and fluid.get("width") is None


def test_a_photo_at_an_angle_on_a_table():
    """A sticker photographed askew: rotated 20°, on a grey margin, in perspective, as JPEG."""
    sticker = _qr_image()
    table = Image.new("RGB", (sticker.width + 300, sticker.height + 300), (150, 140, 120))
    table.paste(sticker, (150, 150))
    tilted = table.rotate(20, expand=True, fillcolor=(150, 140, 120), resample=Image.BICUBIC)
    w, h = tilted.size
    # The far edge looks smaller: map the image onto a trapezoid.
    coefficients = _perspective(
        [(0, 0), (w, 0), (w, h), (0, h)],
        [(w * 0.08, h * 0.05), (w * 0.92, 0), (w, h), (0, h * 0.97)],
    )
    photo = tilted.transform(
        (w, h), Image.PERSPECTIVE, coefficients, Image.BICUBIC, fillcolor=(150, 140, 120)
    )
    assert images.decode_single(_jpeg(photo, quality=70)) == LINK


def _perspective(source, target):
    """Pillow's 8 coefficients mapping points of the output (target) back to the input."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return _solve(rows, rhs)


def _solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def test_a_screenshot_with_transparency():
    sticker = _qr_image().convert("RGBA")
    # A transparent background must read as white, not black.
    pixels = sticker.load()
    for x in range(sticker.width):
        for y in range(sticker.height):
            if pixels[x, y][:3] == (255, 255, 255):
                pixels[x, y] = (0, 0, 0, 0)
    assert images.decode_single(_png(sticker)) == LINK


def test_two_different_codes_are_refused():
    a, b = _qr_image(LINK), _qr_image(OTHER)
    both = Image.new("RGB", (a.width + b.width + 40, max(a.height, b.height)), "white")
    both.paste(a, (0, 0))
    both.paste(b, (a.width + 40, 0))
    data = _png(both)
    assert sorted(images.decode_image(data)) == sorted([LINK, OTHER])
    with pytest.raises(ImageError) as caught:
        images.decode_single(data)
    assert caught.value.code == "several_qr"


def test_two_copies_of_one_code_are_one_code():
    a = _qr_image(LINK)
    both = Image.new("RGB", (a.width * 2 + 40, a.height), "white")
    both.paste(a, (0, 0))
    both.paste(a, (a.width + 40, 0))
    assert images.decode_single(_png(both)) == LINK


def test_an_image_without_a_code():
    picture = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((50, 50, 200, 150), fill="navy")
    draw.text((220, 200), "Kapchyk", fill="black")
    with pytest.raises(ImageError) as caught:
        images.decode_image(_jpeg(picture))
    assert caught.value.code == "no_qr"


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(5000),
        b"",
        b"%PDF-1.7 not an image",
        images.render_png(LINK)[:200],  # a PNG cut short
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",  # SVG is not opened from uploads
    ],
    ids=["random", "empty", "pdf", "truncated-png", "svg"],
)
def test_not_an_image(data):
    with pytest.raises(ImageError) as caught:
        images.decode_image(data)
    assert caught.value.code == "not_an_image"


def test_too_large_is_refused_before_opening(monkeypatch):
    opened = []
    monkeypatch.setattr(images.Image, "open", lambda *a, **k: opened.append(a))
    data = images.render_png(LINK) + b"\0" * (20 * 1024 * 1024)  # 20 MB
    with pytest.raises(ImageError) as caught:
        images.decode_image(data)
    assert caught.value.code == "too_large"
    assert opened == []


def test_the_size_limit_is_a_setting(settings):
    data = images.render_png(LINK)
    settings.QR_IMAGE_MAX_BYTES = len(data) - 1
    with pytest.raises(ImageError) as caught:
        images.decode_image(data)
    assert caught.value.code == "too_large"
    settings.QR_IMAGE_MAX_BYTES = len(data)
    assert images.decode_image(data) == [LINK]


def _bomb(width, height) -> bytes:
    """A PNG of a few hundred bytes that claims width×height pixels (all white, 1 bit)."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\0" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(min(height, 64)))
    idat += compressor.flush()  # the rest is missing: it must never be needed
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "size",
    # Past our limit (50 Mpx) yet within Pillow's warning (89 Mpx); past Pillow's refusal.
    [(8_000, 8_000), (200_000, 200_000)],
    ids=["over-our-limit", "over-pillow-limit"],
)
def test_decompression_bomb(size):
    data = _bomb(*size)
    assert len(data) < 10_000
    with pytest.raises(ImageError) as caught:
        images.decode_image(data)
    assert caught.value.code == "too_many_pixels"


def test_the_pixel_limit_is_a_setting(settings):
    settings.QR_IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(ImageError) as caught:
        images.decode_image(images.render_png(LINK, scale=8))
    assert caught.value.code == "too_many_pixels"
