"""«Сканировать камерой» in a real browser (issue 12): Chromium's fake camera plays a video
file (Y4M, made here from the merchant's QR code drawn by segno) as the phone's camera; the
scan page reads the code and lands on the payment page. Where the browser has no
BarcodeDetector (Chromium on Linux has none; it is also deleted here to be sure) the bundled
jsQR decoder is fetched, once, from this site, only then; the pages keep the weight budget
with that one file exempt."""

import pytest
import segno

from qr import demo, services
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, page_in
from tests.e2e.pages import CAPTIONS, DECODER, Checker, sign_in, tr, words
from tests.factories import make_wallet
from wallets import ledger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]

WIDTH, HEIGHT = 640, 480
NO_DETECTOR = "delete window.BarcodeDetector;"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def write_y4m(path, text, *, frames=3):
    """A still video (4:2:0, full-range grey) of `text`'s QR code, centred on white."""
    matrix = segno.make(text, error="m").matrix
    border = 4
    modules = len(matrix) + 2 * border
    scale = (HEIGHT - 40) // modules
    side = modules * scale
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b"\xff" * WIDTH * HEIGHT)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                y0 = top + (row + border) * scale
                x0 = left + (col + border) * scale
                for y in range(y0, y0 + scale):
                    luma[y * WIDTH + x0 : y * WIDTH + x0 + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH // 2) * (HEIGHT // 2) * 2
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """The file the fake camera plays: written by each test before it opens the camera."""
    return tmp_path_factory.mktemp("camera") / "camera.y4m"


@pytest.fixture(scope="module")
def camera_browser(browser, video):
    """A second Chromium whose camera is the video file (same Playwright instance)."""
    write_y4m(video, "not yet")
    instance = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
        headless=True,
    )
    yield instance
    instance.close()


@pytest.fixture
def camera_page(camera_browser):
    pages = []

    def make(lang="ru"):
        pages.append(page_in(camera_browser, size=PHONE, lang=lang, permissions=["camera"]))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()


def decoder_fetches(page):
    return [url for url in page.net.requests.values() if DECODER in url]


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_camera_scan_with_the_bundled_decoder(camera_page, live_server, video, lang):
    t = CAPTIONS[lang]
    merchant = demo.load(cashier=make_wallet())
    write_y4m(video, services.merchant_link(merchant))
    payer = make_wallet(balance=500_00)
    page = camera_page(lang)
    page.add_init_script(NO_DETECTOR)
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"qr-camera-{lang}")
    sign_in(page, live_server, payer, lang)
    page.goto(live_server.url + "/qr/")
    check("scan")  # the decoder is not fetched yet: the scan page keeps the budget
    assert page.evaluate("'BarcodeDetector' in window") is False
    camera = page.get_by_role("button", name=tr(lang, "Scan with the camera"))
    with page.expect_navigation(timeout=20_000):
        camera.click()
    # The pay page of the static code: the payee as we have it, the amount to type.
    assert words(page.get_by_role("heading", level=2).inner_text()) == merchant.name
    assert page.get_by_label(t["amount"]).input_value() == ""
    [fetched] = decoder_fetches(page)
    assert fetched.startswith(live_server.url + "/static/js/vendor/jsQR.min.")
    check("pay-after-camera", exempt=(DECODER,))
    # Then on as with a pasted link: the amount, «Далее», «Оплатить».
    page.get_by_label(t["amount"]).fill("120")
    page.get_by_role("button", name=t["next"]).click()
    check("confirm")
    page.get_by_role("button", name=t["pay"], exact=True).click()
    check("receipt")
    assert t["done"] in words(page.get_by_role("main").inner_text())
    assert ledger.balance_of(payer.account) == 380_00
    assert ledger.balance_of(merchant.account) == 120_00


def test_camera_scan_with_the_browsers_own_detector(camera_page, live_server, video):
    """Where Chromium has BarcodeDetector, it is used and jsQR is never fetched."""
    merchant = demo.load(cashier=make_wallet())
    write_y4m(video, services.merchant_link(merchant))
    page = camera_page()
    sign_in(page, live_server, make_wallet(), "ru")
    page.goto(live_server.url + "/qr/")
    if not page.evaluate("'BarcodeDetector' in window"):
        pytest.skip("this Chromium has no BarcodeDetector (Linux builds do not)")
    with page.expect_navigation(timeout=20_000):
        page.get_by_role("button", name="Сканировать камерой").click()
    assert words(page.get_by_role("heading", level=2).inner_text()) == merchant.name
    assert decoder_fetches(page) == []


def test_the_decoder_reads_a_canvas(new_page, live_server):
    """The decode function itself, on the QR image drawn on a canvas (no camera)."""
    merchant = demo.load(cashier=make_wallet())
    link = services.merchant_link(merchant)
    page = new_page()
    page.add_init_script(NO_DETECTOR)
    sign_in(page, live_server, make_wallet(), "ru")
    page.goto(live_server.url + "/qr/")
    # Drawn module by module (the page's CSP refuses data: images).
    matrix = [[1 if dark else 0 for dark in row] for row in segno.make(link, error="m").matrix]
    read = page.evaluate(
        """async (matrix) => {
          await window.kapchykQr.loadDecoder();
          const scale = 5, border = 4, side = (matrix.length + 2 * border) * scale;
          const canvas = document.createElement("canvas");
          canvas.width = canvas.height = side;
          const context = canvas.getContext("2d");
          context.fillStyle = "#fff";
          context.fillRect(0, 0, side, side);
          context.fillStyle = "#000";
          matrix.forEach((row, y) => row.forEach((dark, x) => {
            if (dark) context.fillRect((x + border) * scale, (y + border) * scale, scale, scale);
          }));
          const blank = document.createElement("canvas");
          blank.width = blank.height = 100;
          blank.getContext("2d").fillRect(0, 0, 100, 100);
          return [window.kapchykQr.decodeCanvas(canvas), window.kapchykQr.decodeCanvas(blank)];
        }""",
        matrix,
    )
    assert read == [link, None]


def test_the_vendored_decoder_is_the_pinned_package():
    """static/js/vendor/jsQR.min.js is `npm run vendor`'s output of package.json's jsqr, its
    licence kept (header and full text beside it)."""
    import json

    from tests.e2e.conftest import ROOT

    version = json.loads((ROOT / "package.json").read_text())["dependencies"]["jsqr"]
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/jsqr"]["version"] == version
    vendor = ROOT / "static" / "js" / "vendor"
    header = (vendor / "jsQR.min.js").read_text(encoding="utf-8")[:300]
    assert header.startswith(f"/*! jsQR {version} (npm package jsqr)")
    assert "Licence: Apache-2.0" in header
    assert "Apache License" in (vendor / "jsQR.LICENSE.txt").read_text()
