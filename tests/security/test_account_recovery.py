"""The wallet's number is its identity: an email is only a contact, changed with the
password and used once its link is opened; a forgotten password is reset with a code sent
by SMS to the number, never by an email link alone; the owner hears of every change by SMS."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, make_wallet
from wallets.models import SmsMessage

pytestmark = pytest.mark.django_db

EMAIL = "/accounts/email/"
RESET = "/accounts/password/reset/"
RESET_CODE = "/accounts/password/reset/code/"
RESET_NEW = "/accounts/password/reset/new/"
RESET_DONE = "/accounts/password/reset/key/done/"
NEW_PASSWORD = "newpass2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def now(django_capture_on_commit_callbacks):
    """Run a request with what it sends after the commit (SMS, letters) sent at once."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", response.content.decode()).split())


def is_429(response) -> bool:
    return response.status_code == 429 and "Слишком много попыток" in page_text(response)


def sign_in(client, wallet, password=PASSWORD):
    client.post("/accounts/login/", {"phone": wallet.number})
    return client.post("/accounts/login/password/", {"password": password})


def owner(client):
    wallet = make_wallet()
    assert sign_in(client, wallet)["Location"] == "/cabinet/"
    return wallet


def texts_to(phone) -> list[str]:
    return list(
        SmsMessage.objects.filter(phone=phone).order_by("id").values_list("text", flat=True)
    )


def last_code(phone) -> str:
    return re.search(r"\b(\d{6})\b", texts_to(phone)[-1])[1]


# --- the email: the password, then the link ---


def test_the_email_page_asks_for_the_new_address_and_the_password(client):
    wallet = owner(client)
    security = client.get("/cabinet/security/")
    assert f'href="{EMAIL}"' in security.content.decode()
    assert "Сменить email" in page_text(security)

    page = client.get(EMAIL)
    html, text = page.content.decode(), page_text(page)
    assert page.status_code == 200
    assert f"Текущий email {wallet.user.email} — не подтверждён" in text
    assert '<label for="id_email">Новый email</label>' in html
    assert '<label for="id_password">Текущий пароль</label>' in html
    assert 'type="password"' in html and 'autocomplete="current-password"' in html
    assert '<button type="submit" class="primary">Отправить ссылку</button>' in html


@pytest.mark.parametrize(
    ("password", "message"), [("", "Обязательное поле."), ("wrong-pass1", "Неверный пароль.")]
)
def test_a_signed_in_session_cannot_add_an_email_without_the_password(
    client, now, password, message
):
    """Before: a session alone added an address (allauth's «Add email»)."""
    wallet = owner(client)
    data = {"email": "thief@example.kg", "action_add": ""}
    if password:
        data["password"] = password
    response = now(client.post, EMAIL, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not EmailAddress.objects.filter(email="thief@example.kg").exists()
    assert mail.outbox == []
    wallet.user.refresh_from_db()
    assert wallet.user.email != "thief@example.kg"


def test_the_sixth_wrong_password_at_the_email_form_gets_the_429_page(client):
    owner(client)
    for _ in range(5):
        assert (
            client.post(EMAIL, {"email": "x@example.kg", "password": "wrong-pass1"}).status_code
            == 200
        )
    assert is_429(client.post(EMAIL, {"email": "x@example.kg", "password": PASSWORD}))


def test_a_new_email_is_used_only_once_its_link_is_opened_and_the_owner_gets_an_sms(client, now):
    wallet = owner(client)
    user, old = wallet.user, wallet.user.email
    response = now(client.post, EMAIL, {"email": "Aigul.New@Example.kg", "password": PASSWORD})
    assert response["Location"] == EMAIL
    page = client.get(EMAIL)
    assert (
        "Мы отправили ссылку на aigul.new@example.kg. Email сменится, когда вы её откроете."
        in page_text(page)
    )
    assert "Ожидает подтверждения aigul.new@example.kg" in page_text(page)
    user.refresh_from_db()
    assert user.email == old  # not yet
    assert texts_to(wallet.number) == []

    (letter,) = mail.outbox
    assert letter.to == ["aigul.new@example.kg"]
    assert letter.subject == "[Kapchyk] Подтвердите email вашего кошелька"
    assert "Этот адрес указан как email кошелька Капчык +996 " in letter.body
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", letter.body)[1]

    # Opening the link (a mail scanner does) changes nothing; «Подтвердить» does.
    confirm = client.get(link)
    assert "Подтвердите, что aigul.new@example.kg — email кошелька" in page_text(confirm)
    assert '<button type="submit" class="primary">Подтвердить</button>' in confirm.content.decode()
    user.refresh_from_db()
    assert user.email == old

    done = now(client.post, link)
    assert done["Location"] == EMAIL
    user.refresh_from_db()
    assert user.email == "aigul.new@example.kg"
    assert list(
        EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")
    ) == [("aigul.new@example.kg", True, True)]
    (sms,) = texts_to(wallet.number)
    assert sms == (
        f"Капчык: email кошелька {wallet.user.phone[:4]} {wallet.user.phone[4:7]} "
        f"{wallet.user.phone[7:10]} {wallet.user.phone[10:]} теперь aigul.new@example.kg. "
        "Если это были не вы, смените пароль и позвоните в поддержку."
    )
    assert "Email aigul.new@example.kg подтверждён." in page_text(client.get(EMAIL))
    # The link works once.
    assert "Ссылка не работает" in page_text(client.get(link))


def test_the_email_sms_speaks_the_owners_language(now):
    wallet = make_wallet()
    wallet.user.language = "ky"
    wallet.user.save()
    browser = Client()
    browser.cookies["kapchyk_language"] = "ky"
    sign_in(browser, wallet)
    now(browser.post, EMAIL, {"email": "new@example.kg", "password": PASSWORD})
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)[1]
    now(Client().post, link)  # opened on another device, in Russian
    assert (
        texts_to(wallet.number)[0].startswith("Капчык: ")
        and "email дареги эми new@example.kg" in texts_to(wallet.number)[0]
    )


def test_registration_sends_a_link_to_confirm_the_email(client, now):
    client.post("/accounts/login/", {"phone": "0700 555 222"})
    now(
        client.post,
        "/accounts/signup/",
        {
            "email": "reg@example.kg",
            "password1": "kapchyk2026",
            "password2": "kapchyk2026",
            "offer": "on",
        },
    )
    now(
        client.post,
        "/accounts/phone/verify/",
        {"action": "verify", "code": last_code("+996700555222")},
    )
    (letter,) = mail.outbox
    assert letter.to == ["reg@example.kg"]
    assert "/accounts/confirm-email/" in letter.body
    assert EmailAddress.objects.filter(
        email="reg@example.kg", verified=False, primary=True
    ).exists()


# --- a forgotten password: a code by SMS to the wallet's number ---


def test_password_reset_by_a_code_sent_to_the_wallet_number(client, now):
    wallet = make_wallet()
    user = wallet.user
    elsewhere = Client()
    sign_in(elsewhere, wallet)  # a session that must end with the reset
    client.post("/accounts/login/", {"phone": wallet.number})
    for _ in range(5):  # one more would lock the number
        client.post("/accounts/login/password/", {"password": "wrong-pass1"})

    page = client.get(RESET)
    html = page.content.decode()
    assert "Восстановление пароля" in page_text(page)
    assert 'name="phone"' in html and f'value="{wallet.number}"' in html  # from the phone step
    assert 'name="email"' not in html

    response = now(client.post, RESET, {"phone": "0" + wallet.number[4:]})
    assert response["Location"] == RESET_CODE
    assert mail.outbox == []  # nothing by email
    (sms,) = texts_to(wallet.number)
    assert re.fullmatch(r"Код восстановления пароля Капчык: \d{6}\. Никому его не сообщайте\.", sms)

    page = client.get(RESET_CODE)
    assert "Введите 6-значный код из SMS, отправленного на номер +996 " in page_text(page)
    assert client.get(RESET_NEW)["Location"] == RESET_CODE  # not before the code
    code = last_code(wallet.number)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "Неверный код." in page_text(client.post(RESET_CODE, {"code": wrong}))
    assert client.post(RESET_CODE, {"code": code})["Location"] == RESET_NEW

    form = client.get(RESET_NEW)
    assert "Новый пароль" in page_text(form)
    short = client.post(RESET_NEW, {"password1": "new2026", "password2": "new2026"})
    assert "Введённый пароль слишком короткий." in page_text(short)
    done = now(client.post, RESET_NEW, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done["Location"] == RESET_DONE
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert texts_to(wallet.number)[-1].startswith("Капчык: пароль кошелька +996 ") and texts_to(
        wallet.number
    )[-1].endswith("изменён. Если это были не вы, восстановите его по SMS и позвоните в поддержку.")
    # The reset is over; the other session has ended; the lock of wrong passwords is lifted.
    assert client.get(RESET_NEW)["Location"] == RESET
    assert elsewhere.get("/cabinet/")["Location"].startswith("/accounts/login/")
    assert sign_in(client, wallet, NEW_PASSWORD)["Location"] == "/cabinet/"


def test_three_wrong_reset_codes_end_the_reset(client, now):
    wallet = make_wallet()
    now(client.post, RESET, {"phone": wallet.number})
    code = last_code(wallet.number)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert client.post(RESET_CODE, {"code": wrong}).status_code == 200
    assert client.post(RESET_CODE, {"code": wrong}).status_code == 200
    assert is_429(client.post(RESET_CODE, {"code": wrong}))
    assert client.post(RESET_CODE, {"code": code})["Location"] == RESET
    wallet.user.refresh_from_db()
    assert wallet.user.check_password(PASSWORD)


def test_a_number_without_a_web_account_gets_a_message_and_no_sms(client, now):
    response = now(client.post, RESET, {"phone": "0700 999 888"})
    assert response.status_code == 200
    assert "У этого номера нет веб-аккаунта." in page_text(response)
    assert not SmsMessage.objects.exists()
    assert client.get(RESET_CODE)["Location"] == RESET


def test_an_email_link_alone_no_longer_resets_the_password(client, now):
    """Before: the link from a reset email set a new password, no SMS code asked."""
    wallet = make_wallet()
    user = wallet.user
    now(client.post, RESET, {"email": user.email})
    assert mail.outbox == []
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    link = f"/accounts/password/reset/key/{key}/"
    page = client.get(link, follow=True)
    assert "Ссылка не работает" in page_text(page)
    assert "по ссылке из письма" in page_text(page)
    set_url = f"/accounts/password/reset/key/{user_pk_to_url_str(user)}-set-password/"
    client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_changing_the_password_tells_the_owner_by_sms(client, now):
    wallet = owner(client)
    response = now(
        client.post,
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    (sms,) = texts_to(wallet.number)
    assert sms.startswith("Капчык: пароль кошелька +996 ") and "изменён" in sms
