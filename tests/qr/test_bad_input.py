"""Every bad input of the issue, through the pages: a clear message in the payer's language,
never a 500, nothing created and nothing moved."""

import io
from urllib.parse import quote

import pytest
import segno
from django.conf import settings
from django.utils import timezone
from PIL import Image

from qr import elqr, services
from qr.models import DynamicCode, Merchant, QrPayment
from tests.factories import make_wallet
from wallets import ledger
from wallets.models import Transfer

from .helpers import DYNAMIC, KGS, STATIC, VERSION, seal, tlv
from .payments import foreign_link, hidden, merchant, next_step, pay, scan, shown

pytestmark = pytest.mark.django_db

BALANCE = 1_000_00
ROUTER = "https://qr.kapchyk.kg/"
DAMAGED = "QR-код повреждён или считан не полностью. Отсканируйте его ещё раз."


@pytest.fixture
def shop():
    return merchant()


@pytest.fixture
def payer(client, shop):
    wallet = make_wallet(balance=BALANCE)
    client.force_login(wallet.user)
    yield wallet
    # Nothing of the payer's created or moved (another payer may have paid the shop).
    assert not QrPayment.objects.filter(wallet=wallet).exists()
    assert ledger.balance_of(wallet.account) == BALANCE
    assert not Transfer.objects.filter(debit=wallet.account).exists()
    assert ledger.balance_of(shop.account) == sum(
        QrPayment.objects.filter(merchant=shop).values_list("amount", flat=True)
    )


def ours(shop, *fields):
    payee = tlv("32", tlv("00", "kapchyk.kg"))
    body = VERSION + "".join(fields[:1]) + payee + tlv("33", tlv("00", str(shop.pk)))
    return ROUTER + "#" + quote(seal(body + "".join(fields[1:])), safe="")


def _reason(link):
    with pytest.raises(elqr.ElqrError) as exc:
        elqr.parse(link)
    return exc.value.code


def test_not_a_link(client, payer):
    assert "Это не ссылка платёжного QR-кода." in shown(scan(client, "оплатите мне"))


def test_url_that_is_not_elqr(client, payer):
    page = shown(scan(client, "https://kapchyk.kg/about"))
    assert "Эта ссылка — не платёжный QR-код стандарта ELQR." in page


def test_wrong_checksum(client, payer, shop):
    link = services.merchant_link(shop)
    broken = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
    assert _reason(broken) == "checksum_mismatch"
    assert DAMAGED in shown(scan(client, broken))


def test_tlv_cut_in_the_middle(client, payer, shop):
    payload = elqr.build_payload(services.merchant_static_code(shop))
    cut = ROUTER + "#" + quote(payload[:-6], safe="")
    assert _reason(cut) == "tlv_truncated"
    assert DAMAGED in shown(scan(client, cut))


def test_length_past_the_end(client, payer):
    link = ROUTER + "#" + VERSION + STATIC + "5930KAFE" + "6304abcd"
    assert _reason(link) == "tlv_overrun"
    assert DAMAGED in shown(scan(client, link))


def test_currency_840(client, payer, shop):
    link = ours(shop, STATIC, tlv("53", "840"))
    assert _reason(link) == "currency_invalid"
    assert "Этот QR-код запрашивает оплату не в сомах." in shown(scan(client, link))


def test_dynamic_code_with_amount_zero(client, payer, shop):
    link = ours(shop, DYNAMIC, KGS, tlv("54", "0"))
    assert _reason(link) == "amount_required"
    assert "В этом QR-коде нет суммы к оплате. Попросите новый код." in shown(scan(client, link))


def _dynamic(shop, amount=50_00):
    cashier = shop.cashiers.get()
    return services.dynamic_code_create(merchant=shop, cashier=cashier, amount=amount)


def test_expired_code(client, payer, shop):
    dynamic = _dynamic(shop)
    DynamicCode.objects.filter(pk=dynamic.pk).update(expires_at=timezone.now())
    page = shown(scan(client, services.dynamic_link(dynamic)))
    assert "Срок действия кода истёк, попросите у кассира новый." in page


def test_code_expired_between_scan_and_pay(client, payer, shop):
    dynamic = _dynamic(shop)
    confirm = next_step(client, services.dynamic_link(dynamic))
    DynamicCode.objects.filter(pk=dynamic.pk).update(expires_at=timezone.now())
    page = shown(pay(client, confirm))
    assert "Срок действия кода истёк, попросите у кассира новый." in page


def test_already_paid_code(client, payer, shop):
    dynamic = _dynamic(shop)
    other = make_wallet(balance=100_00)
    link = services.dynamic_link(dynamic)
    quote_ = services.qr_quote(wallet=other, scan=services.scan_resolve(link), amount=None)
    services.qr_payment_create(
        wallet=other,
        link=link,
        amount=None,
        token=services.qr_token_new(wallet=other, quote=quote_),
    )
    assert "Этот код уже оплачен." in shown(scan(client, link))
    assert ledger.balance_of(shop.account) == 50_00


def test_amount_changed_in_the_post_for_a_dynamic_code(client, payer, shop):
    link = services.dynamic_link(_dynamic(shop, 50_00))
    page = shown(next_step(client, link, "1"))
    assert "Сумма этого кода задана: 50,00 сом. Её нельзя изменить." in page


def test_amount_changed_at_confirm_for_a_dynamic_code(client, payer, shop):
    link = services.dynamic_link(_dynamic(shop, 50_00))
    confirm = next_step(client, link, "50")
    assert hidden(confirm, "amount") == "50,00"
    page = shown(pay(client, confirm, amount="1,00"))
    assert "Сумма этого кода задана: 50,00 сом. Её нельзя изменить." in page


def test_amount_changed_for_a_fixed_static_code(client, payer, shop):
    code = services.codes.our_code(
        type="static", merchant_id=str(shop.pk), amount=70_00, amount_editable=False
    )
    page = shown(next_step(client, services.codes.link(code), "7"))
    assert "Сумма этого кода задана: 70,00 сом. Её нельзя изменить." in page


def _upload(client, data, name="qr.png"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/qr/", {"link": "", "photo": upload})


def _png(image):
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_image_that_is_not_an_image(client, payer):
    page = shown(_upload(client, b"%PDF-1.4 not a picture", "qr.pdf"))
    assert "Файл не является изображением. Загрузите фото или снимок экрана (JPEG или PNG)." in page


def test_twenty_megabyte_image(client, payer):
    data = _png(Image.new("L", (10, 10), 255)) + b"\0" * (20 * 1024 * 1024)
    page = shown(_upload(client, data))
    assert "Изображение слишком большое. Загрузите файл не больше 10 МБ." in page


def test_image_without_a_qr_code(client, payer):
    page = shown(_upload(client, _png(Image.new("L", (400, 400), 255))))
    assert "На изображении не найден QR-код. Сфотографируйте ближе и прямо." in page


def test_image_with_two_qr_codes(client, payer, shop):
    sheet = Image.new("L", (900, 450), 255)
    for i, link in enumerate([services.merchant_link(shop), foreign_link()]):
        out = io.BytesIO()
        segno.make_qr(link).save(out, kind="png", scale=8)
        sheet.paste(Image.open(io.BytesIO(out.getvalue())).convert("L"), (i * 450, 0))
    page = shown(_upload(client, _png(sheet)))
    assert "На изображении несколько QR-кодов. Сфотографируйте только один." in page


def test_merchant_deactivated_between_scan_and_pay(client, payer, shop):
    confirm = next_step(client, services.merchant_link(shop), "100")
    assert "Подтверждение оплаты" in shown(confirm)
    Merchant.objects.filter(pk=shop.pk).update(active=False)
    page = shown(pay(client, confirm))
    assert "Эта торговая точка сейчас не принимает платежи." in page


def test_foreign_bank_code(client, payer):
    page = shown(scan(client, foreign_link()))
    assert "MBank — KIRILL B." in page
    assert "Это код другого банка, из Капчыка его пока оплатить нельзя." in page


def test_foreign_bank_code_posted_to_the_next_steps(client, payer):
    assert "MBank — KIRILL B." in shown(next_step(client, foreign_link(), "10"))
    page = shown(
        client.post("/qr/confirm/", {"link": foreign_link(), "amount": "10", "token": "x"})
    )
    assert "MBank — KIRILL B." in page


def test_empty_form(client, payer):
    assert "Вставьте ссылку QR-кода или загрузите его фото." in shown(scan(client, ""))


def test_in_kyrgyz(client, payer):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ky"
    page = shown(scan(client, "https://kapchyk.kg/about"))
    assert "Бул шилтеме ELQR стандартындагы төлөм QR-коду эмес." in page
