"""QR images: draw a link as SVG or PNG (segno), read the codes in a photo or a screenshot
(zxing-cpp, through Pillow).

A photo is a stranger's upload: its size is checked before it is opened, its pixel count from
the header before it is decoded (a small file can unpack into gigabytes: a decompression bomb),
and only the common photo and screenshot formats are opened at all.
"""

import io
import warnings

import segno
import zxingcpp
from django.conf import settings
from PIL import Image, UnidentifiedImageError

# What phones and browsers upload; every other format Pillow knows stays closed.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class ImageError(ValueError):
    """An upload we cannot read a code from. ``code``: not_an_image, too_large, too_many_pixels,
    no_qr, several_qr."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _qr(link: str) -> segno.QRCode:
    # Level M survives a smudged sticker; segno raises it further when the version has room.
    return segno.make_qr(link, error="m")


def render_svg(
    link: str, *, scale: int = 4, border: int = 4, title: str | None = None, fluid: bool = False
) -> str:
    """An inline <svg> element of the link's QR code (no XML declaration), class "qr".

    ``fluid``: no width and height, only a viewBox, so that CSS sizes it (a printed sticker).
    """
    out = io.BytesIO()
    _qr(link).save(
        out,
        kind="svg",
        scale=scale,
        border=border,
        xmldecl=False,
        svgclass="qr",
        title=title,
        omitsize=fluid,
    )
    return out.getvalue().decode("utf-8")


def render_png(link: str, *, scale: int = 8, border: int = 4) -> bytes:
    """The link's QR code as PNG bytes, black on white."""
    out = io.BytesIO()
    _qr(link).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def decode_image(data: bytes) -> list[str]:
    """The texts of the QR codes in an image, in reading order, each once.

    Raises ImageError: too_large (more than QR_IMAGE_MAX_BYTES), not_an_image, too_many_pixels
    (more than QR_IMAGE_MAX_PIXELS), no_qr.
    """
    max_bytes = settings.QR_IMAGE_MAX_BYTES
    if len(data) > max_bytes:
        raise ImageError(
            "too_large", f"the image has {len(data)} bytes, at most {max_bytes} are accepted"
        )
    image = _open(data)
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    texts = list(dict.fromkeys(r.text for r in results if r.valid and r.text))
    if not texts:
        raise ImageError("no_qr", "no QR code found in the image")
    return texts


def decode_single(data: bytes) -> str:
    """The text of the one QR code in an image (two copies of one code count as one).

    Raises ImageError as decode_image does, and several_qr when it holds different codes.
    """
    texts = decode_image(data)
    if len(texts) > 1:
        raise ImageError("several_qr", f"the image holds {len(texts)} different QR codes")
    return texts[0]


def _open(data: bytes) -> Image.Image:
    max_pixels = settings.QR_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and refuses past twice that; both are refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    "too_many_pixels",
                    f"the image is {width}×{height} pixels, at most {max_pixels} are accepted",
                )
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent pixels read as black: put the image on white paper first.
                paper = Image.new("RGBA", image.size, "white")
                image = Image.alpha_composite(paper, image.convert("RGBA"))
            # zxing reads luminance.
            return image.convert("L")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("too_many_pixels", f"the image has too many pixels: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # A truncated or corrupt file fails in load() with one of these, depending on the format.
        raise ImageError("not_an_image", f"not a readable image: {exc}") from None
