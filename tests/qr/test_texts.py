"""Every reason the codec or the image reader can give has a message for the payer."""

import re
from pathlib import Path

from django.utils import translation

from qr import texts

QR = Path(__file__).resolve().parents[2] / "qr"


def _reasons(module: str, error: str) -> set[str]:
    source = (QR / module).read_text(encoding="utf-8")
    return set(re.findall(rf'{error}\(\s*"([a-z_]+)"', source))


def test_every_codec_reason_has_a_text():
    reasons = _reasons("elqr.py", "ElqrError")
    assert {"checksum_mismatch", "currency_invalid", "not_a_link", "tlv_overrun"} <= reasons
    assert reasons == set(texts.CODE_TEXTS)


def test_every_image_reason_has_a_text():
    reasons = _reasons("images.py", "ImageError")
    assert reasons == set(texts.IMAGE_TEXTS)


def test_texts_in_words():
    with translation.override("en"):
        assert texts.code_error_text("currency_invalid") == (
            "This QR code asks for a currency other than the som."
        )
        assert texts.code_error_text("checksum_mismatch") == (
            "The QR code is damaged or was read incompletely. Scan it again."
        )
        assert texts.image_error_text("too_large", max_bytes=10 * 1024 * 1024) == (
            "The picture is too large. Upload one of at most 10 MB."
        )
