"""The pages: paying by QR end to end, the cashier page, the sticker; owner, cashier and
stranger (404)."""

import io
import re

import pytest
from django.core.management import call_command

from qr import images, services
from qr.models import DynamicCode, Merchant, QrPayment
from tests.factories import make_wallet
from wallets import ledger

from .payments import hidden, merchant, next_step, pay, scan, shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier():
    return make_wallet()


@pytest.fixture
def shop(cashier):
    return merchant(cashier=cashier)


def test_cabinet_and_services_lead_to_pay_by_qr(client):
    wallet = make_wallet()
    client.force_login(wallet.user)
    assert 'href="/qr/"' in client.get("/cabinet/").content.decode()
    assert 'href="/qr/"' in client.get("/services/").content.decode()
    page = shown(client.get("/qr/"))
    assert "Оплата по QR-коду" in page and "Считывание по QR-коду" in page


def test_scan_page_needs_a_login(client):
    assert client.get("/qr/").status_code == 302


def test_static_code_by_link_amount_typed(client, shop, cashier):
    payer = make_wallet(balance=1_000_00)
    client.force_login(payer.user)
    page = shown(scan(client, services.merchant_link(shop)))
    assert 'КАФЕ "КЕНТ"' in page
    assert 'name="amount"' in scan(client, services.merchant_link(shop)).content.decode()
    confirm = next_step(client, hidden(scan(client, services.merchant_link(shop)), "link"), "150")
    text = shown(confirm)
    assert "Подтверждение оплаты" in text
    assert "Получатель" in text and 'КАФЕ "КЕНТ"' in text
    assert "150,00 сом" in text and "850,00 сом" in text  # the amount, the balance after
    back = pay(client, confirm, action="back")
    assert hidden(back, "amount") == "150,00"
    response = pay(client, confirm)
    payment = QrPayment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/qr/receipt/{payment.code}/"
    receipt = shown(client.get(response["Location"]))
    assert payment.display_code in receipt and "Платёж проведён" in receipt
    assert ledger.balance_of(payer.account) == 850_00
    assert ledger.balance_of(shop.account) == 150_00
    # A double click lands on the same receipt, nothing moves again.
    assert pay(client, confirm)["Location"] == response["Location"]
    assert QrPayment.objects.count() == 1
    assert ledger.balance_of(payer.account) == 850_00


def test_dynamic_code_shows_its_fixed_amount(client, shop, cashier):
    dynamic = services.dynamic_code_create(merchant=shop, cashier=cashier, amount=99_90)
    payer = make_wallet(balance=100_00)
    client.force_login(payer.user)
    page = scan(client, services.dynamic_link(dynamic))
    assert "99,90 сом" in shown(page)
    assert 'type="text" name="amount"' not in page.content.decode()
    confirm = next_step(client, hidden(page, "link"), hidden(page, "amount"))
    assert pay(client, confirm).status_code == 302
    assert ledger.balance_of(payer.account) == 10
    assert QrPayment.objects.get().transaction_id == dynamic.transaction_id
    # Then the second double-click twin, and another payer: «already paid».
    assert pay(client, confirm).status_code == 302
    other = make_wallet(balance=100_00)
    client.force_login(other.user)
    assert "Этот код уже оплачен." in shown(scan(client, services.dynamic_link(dynamic)))


def test_paying_by_a_screenshot_of_the_cashier_page_code(client, shop, cashier):
    dynamic = services.dynamic_code_create(merchant=shop, cashier=cashier, amount=12_00)
    png = images.render_png(services.dynamic_link(dynamic))
    payer = make_wallet(balance=100_00)
    client.force_login(payer.user)
    upload = io.BytesIO(png)
    upload.name = "screen.png"
    page = client.post("/qr/", {"link": "", "photo": upload})
    assert "12,00 сом" in shown(page)
    assert hidden(page, "link") == services.dynamic_link(dynamic)


def test_insufficient_balance_on_the_confirm_page(client, shop):
    payer = make_wallet(balance=10_00)
    client.force_login(payer.user)
    confirm = next_step(client, services.merchant_link(shop), "20")
    text = shown(confirm)
    assert "Недостаточно средств" in text
    assert re.search(r'value="pay" class="primary"\s+disabled', confirm.content.decode())
    assert not QrPayment.objects.exists()


def test_cashier_page_makes_a_dynamic_code(client, shop, cashier):
    client.force_login(cashier.user)
    page = client.get(f"/qr/cashier/{shop.pk}/")
    assert '<meta http-equiv="refresh" content="10">' in page.content.decode()
    response = client.post(f"/qr/cashier/{shop.pk}/", {"amount": "345"})
    dynamic = DynamicCode.objects.get()
    assert dynamic.amount == 345_00 and dynamic.created_by == cashier
    assert response["Location"] == f"/qr/cashier/{shop.pk}/code/{dynamic.transaction_id}/"
    code_page = client.get(response["Location"]).content.decode()
    assert "<svg" in code_page and 'http-equiv="refresh"' in code_page
    # Paid: the page says so, stops refreshing and lists the payment.
    payer = make_wallet(balance=1_000_00)
    link = services.dynamic_link(dynamic)
    quote = services.qr_quote(wallet=payer, scan=services.scan_resolve(link), amount=None)
    payment = services.qr_payment_create(
        wallet=payer,
        link=link,
        amount=None,
        token=services.qr_token_new(wallet=payer, quote=quote),
    )
    code_page = client.get(response["Location"])
    assert f"Оплачено: платёж {payment.display_code}." in shown(code_page)
    assert 'http-equiv="refresh"' not in code_page.content.decode()
    assert payment.display_code in shown(client.get(f"/qr/cashier/{shop.pk}/"))
    csv = client.get(f"/qr/cashier/{shop.pk}/statement.csv").content.decode("utf-8-sig")
    assert payment.display_code in csv and "345,00" in csv
    assert payer.number not in csv  # the payer's number, masked


def test_cashier_page_refuses_a_bad_amount(client, shop, cashier):
    client.force_login(cashier.user)
    page = shown(client.post(f"/qr/cashier/{shop.pk}/", {"amount": "0"}))
    assert "Сумма должна быть больше нуля." in page
    assert not DynamicCode.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/qr/cashier/{pk}/",
        "/qr/cashier/{pk}/statement.csv",
        "/qr/merchants/{pk}/sticker/",
        "/qr/merchants/{pk}/sticker.png",
    ],
)
def test_strangers_get_404(client, shop, url):
    stranger = make_wallet()
    client.force_login(stranger.user)
    assert client.get(url.format(pk=shop.pk)).status_code == 404
    assert client.post(url.format(pk=shop.pk), {"amount": "5"}).status_code in (404, 405)
    assert not DynamicCode.objects.exists()


def test_a_stranger_cannot_see_a_dynamic_code(client, shop, cashier):
    dynamic = services.dynamic_code_create(merchant=shop, cashier=cashier, amount=5_00)
    client.force_login(make_wallet().user)
    assert client.get(f"/qr/cashier/{shop.pk}/code/{dynamic.transaction_id}/").status_code == 404


def test_a_cashier_of_another_merchant_gets_404(client, shop):
    other_cashier = make_wallet()
    merchant(name_ru="Другая точка", cashier=other_cashier)
    client.force_login(other_cashier.user)
    assert client.get(f"/qr/cashier/{shop.pk}/").status_code == 404


def test_receipt_of_another_payer_is_404(client, shop):
    payer = make_wallet(balance=100_00)
    link = services.merchant_link(shop)
    quote = services.qr_quote(wallet=payer, scan=services.scan_resolve(link), amount=10_00)
    payment = services.qr_payment_create(
        wallet=payer,
        link=link,
        amount=10_00,
        token=services.qr_token_new(wallet=payer, quote=quote),
    )
    client.force_login(payer.user)
    assert client.get(payment.get_absolute_url()).status_code == 200
    client.force_login(make_wallet().user)
    assert client.get(payment.get_absolute_url()).status_code == 404


def test_sticker_page_and_png(client, shop, cashier):
    client.force_login(cashier.user)
    page = client.get(f"/qr/merchants/{shop.pk}/sticker/").content.decode()
    assert "<svg" in page and 'КАФЕ "КЕНТ"' in page.replace("&quot;", '"')
    assert "QR-коду боюнча төлөө" in page and "Оплата по QR-коду" in page
    png = client.get(f"/qr/merchants/{shop.pk}/sticker.png")
    assert png["Content-Type"] == "image/png"
    assert images.decode_single(png.content) == services.merchant_link(shop)


def test_cabinet_links_a_cashier_to_the_cashier_page(client, shop, cashier):
    client.force_login(cashier.user)
    assert f"/qr/cashier/{shop.pk}/" in client.get("/cabinet/").content.decode()


def test_admin_creates_a_merchant_with_its_account(admin_client):
    response = admin_client.post(
        "/admin/qr/merchant/add/",
        {"name_ru": "Новая точка", "name_ky": "Жаңы түйүн", "mcc": "5411", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Merchant.objects.get()
    assert created.account.kind == "provider"
    assert admin_client.get("/admin/qr/merchant/").status_code == 200
    assert admin_client.get(f"/qr/merchants/{created.pk}/sticker/").status_code == 200


def test_admin_refuses_a_bad_mcc(admin_client):
    response = admin_client.post(
        "/admin/qr/merchant/add/", {"name_ru": "Точка", "mcc": "58a2", "active": "on"}
    )
    assert response.status_code == 200
    assert not Merchant.objects.exists()


def test_demo_has_the_kent_cafe_with_a_cashier(db, demo_data, capsys):
    call_command("demo")
    shop = Merchant.objects.get(name_ru='КАФЕ "КЕНТ"')
    assert shop.mcc == "5812"
    assert shop.cashiers.get().number == "+996700123456"
    out = capsys.readouterr().out
    assert 'КАФЕ "КЕНТ"' in out and "+996 700 123 456" in out
    call_command("demo")
    assert Merchant.objects.count() == 1


def test_a_photo_of_the_sticker_taken_at_an_angle(client, shop, cashier):
    from PIL import Image

    client.force_login(cashier.user)
    png = client.get(f"/qr/merchants/{shop.pk}/sticker.png").content
    flat = Image.open(io.BytesIO(png)).convert("L")
    w, h = flat.size
    paper = Image.new("L", (w + 200, h + 200), 235)
    paper.paste(flat, (100, 100))
    # A perspective: the top edge narrower than the bottom one, as from a phone held low.
    W, H = paper.size
    coeffs = _perspective([(60, 0), (W - 60, 0), (W, H), (0, H)], [(0, 0), (W, 0), (W, H), (0, H)])
    angled = paper.transform((W, H), Image.Transform.PERSPECTIVE, coeffs, fillcolor=200)
    out = io.BytesIO()
    angled.save(out, format="JPEG", quality=80)
    payer = make_wallet(balance=100_00)
    client.force_login(payer.user)
    upload = io.BytesIO(out.getvalue())
    upload.name = "photo.jpg"
    page = client.post("/qr/", {"link": "", "photo": upload})
    assert hidden(page, "link") == services.merchant_link(shop)
    assert 'КАФЕ "КЕНТ"' in shown(page)


def _perspective(target, source):
    """The 8 coefficients PIL wants, mapping `target` corners back to `source` ones
    (8 linear equations, solved by Gaussian elimination)."""
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    n = 8
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]
