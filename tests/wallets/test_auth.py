"""Web sign-in and registration, phone first (flows.md A1–A2), through the test client."""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory, make_wallet
from wallets import services
from wallets.models import Offer, SmsMessage, User, Wallet

pytestmark = pytest.mark.django_db

NEW = "+996700555111"  # an O! number nobody has registered
NEW_TYPED = "0700 555 111"
NEW_SHOWN = "+996 700 555 111"
GOOD_PASSWORD = "kapchyk2026"

LOGIN = reverse("account_login")
PASSWORD_STEP = reverse("kapchyk_login_password")
SIGNUP = reverse("account_signup")
VERIFY = reverse("account_verify_phone")
HOME = reverse("wallets:home")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Dozens of sign-ins per test module; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def send_sms_now(django_capture_on_commit_callbacks):
    """SMS leave on commit; in a test the commit never comes, so run them at once."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def page_text(response) -> str:
    """The visible text, one space between words and between elements."""
    return " ".join(re.sub(r"<[^>]*>", " ", response.content.decode()).split())


def last_code(phone: str) -> str:
    sms = SmsMessage.objects.filter(phone=phone).order_by("-id").first()
    return re.search(r"\b(\d{6})\b", sms.text).group(1)


def is_429(response) -> bool:
    return response.status_code == 429 and "Слишком много попыток" in page_text(response)


def phone_step(client, typed):
    return client.post(LOGIN, {"phone": typed})


def registration(**changes):
    data = {
        "email": "Aigul@Example.kg",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "offer": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def register(client, send_sms_now, typed=NEW_TYPED, **changes):
    """Phone step + registration form; returns the response to the form."""
    assert phone_step(client, typed)["Location"] == SIGNUP
    return send_sms_now(client.post, SIGNUP, registration(**changes))


# --- step 1: the number ---


def test_sign_in_page_asks_for_the_wallet_number_only(client):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in html
    assert '<label for="id_phone">Номер кошелька</label>' in html
    assert 'type="tel"' in html and 'name="phone"' in html
    # The number only; the PIN of a trusted device is in a section that stays hidden unless
    # the device's key is found by static/js/quick-signin.js (wallets.devices).
    step = html[: html.index('id="pin-signin" hidden')]
    assert 'type="password"' not in step
    assert '<button type="submit" class="primary">Войти</button>' in html
    assert "Вход в кошелёк" in page_text(response)


@pytest.mark.parametrize("typed", ["0555 123 456", "555123456", "+996 555 12-34-56"])
def test_a_number_with_a_web_account_goes_to_its_password(client, typed):
    UserFactory(phone="+996555123456")
    response = phone_step(client, typed)
    assert response.status_code == 302
    assert response["Location"] == PASSWORD_STEP

    page = client.get(PASSWORD_STEP)
    html, text = page.content.decode(), page_text(page)
    assert page.status_code == 200
    assert "Номер кошелька +996 555 123 456" in text
    assert '<label for="id_password">Пароль</label>' in html
    assert '<button type="submit" class="primary">Войти</button>' in html
    assert f'<a href="{reverse("account_reset_password")}">Забыли пароль?</a>' in html
    assert f'<a href="{LOGIN}">Другой номер</a>' in html


def test_a_number_without_a_web_account_goes_to_registration(client):
    response = phone_step(client, NEW_TYPED)
    assert response["Location"] == SIGNUP

    page = client.get(SIGNUP)
    html, text = page.content.decode(), page_text(page)
    assert page.status_code == 200
    assert f'<h1 id="signup-h">Регистрация номера {NEW_SHOWN}</h1>' in html
    assert '<label for="id_email">Email</label>' in html
    assert '<label for="id_password1">Пароль</label>' in html
    assert '<label for="id_password2">Повторите пароль</label>' in html
    assert 'type="checkbox" name="offer"' in html
    assert "Я соглашаюсь с условиями публичной оферты" in text
    assert f'<a href="{reverse("wallets:offer")}" target="_blank" rel="noopener">' in html
    assert '<button type="submit" class="primary">Зарегистрироваться</button>' in html
    assert not User.objects.filter(phone=NEW).exists()  # nothing written by looking


@pytest.mark.parametrize("how", ["ussd wallet, no password", "never proven, has a password"])
def test_a_number_without_web_access_is_offered_registration(client, how):
    if how == "ussd wallet, no password":
        user = UserFactory(phone=NEW, email="")
        user.set_unusable_password()
        user.save()
        make_wallet(user=user)
    else:
        UserFactory(phone=NEW, phone_verified=False)
    assert phone_step(client, NEW_TYPED)["Location"] == SIGNUP


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0312 123456", "Это городской номер. Номер кошелька — мобильный номер."),
        (
            "+7 701 123 4567",
            "Номером кошелька может быть только кыргызский мобильный номер (+996).",
        ),
        ("0545 123 456", "Кошельки обслуживаются только для номеров Megacom, Beeline и O!."),
        ("0555 12 34", "В мобильном номере 9 цифр после +996, например 0555 123 456."),
        ("0555 abc 456", "Номер состоит только из цифр, например 0555 123 456."),
        ("", "Введите номер мобильного телефона."),
    ],
)
def test_other_numbers_get_a_clear_message_next_to_the_field(client, typed, message):
    response = phone_step(client, typed)
    html = response.content.decode()
    assert response.status_code == 200
    field = html[html.index('<div class="field">') : html.index("</div>", html.index("id_phone"))]
    assert f"<li>{message}</li>" in field
    assert 'aria-invalid="true"' in field
    assert "kapchyk_phone" not in client.session


def test_the_phone_step_is_rate_limited(client, settings):
    settings.KAPCHYK_PHONE_STEP_RATE = "3/m/ip"
    for _ in range(3):
        assert phone_step(client, NEW_TYPED).status_code == 302
    response = phone_step(client, NEW_TYPED)
    assert is_429(response)
    assert response.templates[0].name == "429.html"


def test_the_next_steps_need_the_phone_step_first(client):
    assert client.get(SIGNUP)["Location"] == LOGIN
    assert client.get(PASSWORD_STEP)["Location"] == LOGIN
    assert client.post(SIGNUP, registration())["Location"] == LOGIN
    assert not User.objects.exists()


# --- step 2b: registration ---


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "aigul-at-example.kg"}, "email", "Введите правильный адрес электронной почты."),
        ({"email": ""}, "email", "Обязательное поле."),
        ({"password2": "kapchyk2027"}, "password2", "Пароли не совпадают."),
        (
            {"password1": "kap2026", "password2": "kap2026"},
            "password1",
            "Введённый пароль слишком короткий. Он должен состоять из как минимум 8 символов.",
        ),
        (
            {"password1": "kapchykpass", "password2": "kapchykpass"},
            "password1",
            "Пароль должен содержать хотя бы одну латинскую букву и одну цифру.",
        ),
        (
            {"password1": "капчык2026", "password2": "капчык2026"},
            "password1",
            "Пароль должен содержать хотя бы одну латинскую букву и одну цифру.",
        ),
        (
            {"offer": None},
            "offer",
            "Чтобы зарегистрироваться, согласитесь с условиями публичной оферты.",
        ),
    ],
)
def test_registration_refuses_bad_input_and_writes_nothing(
    client, send_sms_now, changes, field, message
):
    response = register(client, send_sms_now, **changes)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in html
    assert f"Регистрация номера {NEW_SHOWN}" in page_text(response)
    assert not User.objects.filter(phone=NEW).exists()
    assert not SmsMessage.objects.exists()


def test_registration_of_a_number_registered_meanwhile_is_refused(client, send_sms_now):
    assert phone_step(client, NEW_TYPED)["Location"] == SIGNUP
    UserFactory(phone=NEW)  # registered in another browser a moment ago
    response = send_sms_now(client.post, SIGNUP, registration())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Этот номер уже зарегистрирован. Войдите с паролем." in page_text(response)
    assert f'<a class="button" href="{PASSWORD_STEP}">Войти</a>' in html
    assert not SmsMessage.objects.exists()
    assert client.get(SIGNUP)["Location"] == PASSWORD_STEP


def test_registration_is_confirmed_by_the_sms_code_and_opens_the_wallet(client, send_sms_now):
    before = timezone.now()
    response = register(client, send_sms_now)
    assert response.status_code == 302
    assert response["Location"] == VERIFY

    # The code went to the number; nothing is granted until it comes back.
    sms = SmsMessage.objects.get()
    assert sms.phone == NEW
    assert re.fullmatch(r"Капчык: код \d{6}\. Никому его не сообщайте\.", sms.text)
    user = User.objects.get(phone=NEW)
    assert (user.phone_verified, user.email, user.has_usable_password()) == (False, "", False)
    assert user.offer_version is None
    assert not Wallet.objects.exists()
    assert "_auth_user_id" not in client.session

    page = client.get(VERIFY)
    html, text = page.content.decode(), page_text(page)
    assert "Подтверждение номера" in text
    assert f"Введите 6-значный код из SMS, отправленного на номер {NEW_SHOWN}." in text
    assert f"Код подтверждения отправлен на номер {NEW_SHOWN}." in text
    assert '<label for="id_code">Код из SMS</label>' in html
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    assert '<button type="submit" class="primary">Подтвердить</button>' in html
    assert "Отправить код ещё раз" in text

    response = client.post(VERIFY, {"action": "verify", "code": last_code(NEW)})
    assert response.status_code == 302
    assert response["Location"] == HOME

    user.refresh_from_db()
    assert user.phone_verified is True
    assert user.email == "aigul@example.kg"
    assert user.check_password(GOOD_PASSWORD)
    assert user.offer_version == Offer.objects.current()
    assert user.offer_version.version == 1
    assert before <= user.offer_accepted_at <= timezone.now()
    wallet = Wallet.objects.get(user=user)
    assert (wallet.number, wallet.account.balance) == (NEW, 0)
    assert client.session["_auth_user_id"] == str(user.pk)

    home = client.get(HOME)
    assert home.status_code == 200
    assert f"Номер {NEW_SHOWN} подтверждён." in page_text(home)
    assert f"Кошелёк {NEW_SHOWN}" in page_text(home)
    assert "0,00 сом" in page_text(home)


def test_a_wrong_code_is_refused_and_the_right_one_still_works(client, send_sms_now):
    register(client, send_sms_now)
    right = last_code(NEW)
    wrong = "000000" if right != "000000" else "111111"
    response = client.post(VERIFY, {"action": "verify", "code": wrong})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_code_error"><li>Неверный код.</li></ul>' in html
    assert not Wallet.objects.exists()
    assert User.objects.get(phone=NEW).phone_verified is False

    response = client.post(VERIFY, {"action": "verify", "code": right})
    assert response["Location"] == HOME
    assert Wallet.objects.filter(number=NEW).exists()


def test_three_wrong_codes_end_the_registration_with_the_429_page(client, send_sms_now):
    register(client, send_sms_now)
    right = last_code(NEW)
    wrong = "000000" if right != "000000" else "111111"
    assert client.post(VERIFY, {"code": wrong}).status_code == 200
    assert client.post(VERIFY, {"code": wrong}).status_code == 200
    assert is_429(client.post(VERIFY, {"code": wrong}))
    # That attempt is over: even the right code no longer opens anything.
    assert client.post(VERIFY, {"code": right})["Location"] == LOGIN
    assert not Wallet.objects.exists()
    assert not User.objects.get(phone=NEW).has_usable_password()


def test_resending_the_code_past_the_limit_shows_the_429_page(client, send_sms_now, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "2/m/key"}
    register(client, send_sms_now)
    response = send_sms_now(client.post, VERIFY, {"action": "resend"})
    assert response["Location"] == VERIFY
    assert SmsMessage.objects.filter(phone=NEW).count() == 2
    assert last_code(NEW) != "" and "Отправить код ещё раз" in page_text(client.get(VERIFY))

    response = send_sms_now(client.post, VERIFY, {"action": "resend"})
    assert is_429(response)
    assert SmsMessage.objects.filter(phone=NEW).count() == 2


def test_the_sms_limit_hit_by_a_new_registration_shows_the_429_page(client, send_sms_now):
    # "verify_phone": 3 codes a minute per number.
    register(client, send_sms_now)
    send_sms_now(client.post, VERIFY, {"action": "resend"})
    send_sms_now(client.post, VERIFY, {"action": "resend"})
    assert SmsMessage.objects.filter(phone=NEW).count() == 3
    assert "Отправить код ещё раз" not in page_text(client.get(VERIFY))  # resends used up

    response = register(client, send_sms_now)
    assert is_429(response)
    assert SmsMessage.objects.filter(phone=NEW).count() == 3


def test_a_ussd_wallet_gets_web_access_only_with_the_sms_code(client, send_sms_now):
    owner = UserFactory(phone=NEW, email="", full_name="Айгуль")
    owner.set_unusable_password()
    owner.save()
    wallet = make_wallet(user=owner, balance=150_00)

    register(client, send_sms_now)
    owner.refresh_from_db()
    assert (owner.email, owner.has_usable_password(), owner.offer_version) == ("", False, None)

    response = client.post(VERIFY, {"code": last_code(NEW)})
    assert response["Location"] == HOME
    owner.refresh_from_db()
    assert owner.check_password(GOOD_PASSWORD) and owner.email == "aigul@example.kg"
    assert owner.offer_version == Offer.objects.current()
    assert list(Wallet.objects.filter(user=owner)) == [wallet]
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 150_00


def test_the_number_cannot_be_changed_at_the_code_step(client, send_sms_now):
    register(client, send_sms_now)
    response = send_sms_now(client.post, VERIFY, {"action": "change", "phone": "0555 999 888"})
    assert response.status_code == 200  # treated as a (wrong) code, nothing else
    assert User.objects.get(phone=NEW)
    assert not User.objects.filter(phone="+996555999888").exists()
    assert SmsMessage.objects.count() == 1


# --- step 2a: the password ---


def test_sign_in_with_the_password_starts_a_new_session(client):
    wallet = make_wallet(balance=10_00)
    phone_step(client, wallet.number)
    client.get(PASSWORD_STEP)
    anonymous_key = client.session.session_key
    response = client.post(PASSWORD_STEP, {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.session.session_key != anonymous_key
    assert client.session["_auth_user_id"] == str(wallet.user_id)
    assert "kapchyk_phone" not in client.session
    home = client.get(HOME)
    assert f"Успешный вход под именем {wallet}." in page_text(home)
    assert "10,00 сом" in page_text(home)


def test_a_wrong_password_is_refused_next_to_the_field(client):
    wallet = make_wallet()
    phone_step(client, wallet.number)
    response = client.post(PASSWORD_STEP, {"password": "wrong-pass1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_password_error"><li>Неверный пароль.</li></ul>' in html
    assert "_auth_user_id" not in client.session


def test_the_sixth_wrong_password_in_five_minutes_gets_the_429_page(client):
    wallet = make_wallet()
    phone_step(client, wallet.number)
    for _ in range(5):
        assert client.post(PASSWORD_STEP, {"password": "wrong-pass1"}).status_code == 200
    assert is_429(client.post(PASSWORD_STEP, {"password": "wrong-pass1"}))
    # Locked for this number, even with the right password…
    assert is_429(client.post(PASSWORD_STEP, {"password": PASSWORD}))
    assert "_auth_user_id" not in client.session
    # …but not for another number.
    other = make_wallet()
    phone_step(client, other.number)
    assert client.post(PASSWORD_STEP, {"password": PASSWORD})["Location"] == HOME


def test_sign_in_returns_to_the_page_asked_for(client):
    wallet = make_wallet()
    history = reverse("wallets:history")
    asked = client.get(history)["Location"]
    assert asked == f"{LOGIN}?next={history}"
    page = client.get(asked)
    assert f'<input type="hidden" name="next" value="{history}">' in page.content.decode()
    step = client.post(LOGIN, {"phone": wallet.number, "next": history})
    assert step["Location"] == f"{PASSWORD_STEP}?{urlencode({'next': history})}"
    signed_in = client.post(step["Location"], {"password": PASSWORD, "next": history})
    assert signed_in["Location"] == history


def test_a_foreign_site_is_never_where_sign_in_leads(client):
    wallet = make_wallet()
    evil = "https://evil.example/"
    step = client.post(LOGIN, {"phone": wallet.number, "next": evil})
    assert step["Location"] == PASSWORD_STEP
    assert client.post(PASSWORD_STEP, {"password": PASSWORD, "next": evil})["Location"] == HOME


def test_the_password_step_is_only_for_numbers_with_a_web_account(client):
    user = UserFactory(phone=NEW)
    phone_step(client, NEW_TYPED)
    user.set_unusable_password()
    user.save()
    assert client.get(PASSWORD_STEP)["Location"] == SIGNUP


def test_a_blocked_wallet_cannot_sign_in(client):
    wallet = make_wallet()
    User.objects.filter(pk=wallet.user_id).update(is_active=False)
    phone_step(client, wallet.number)
    response = client.post(PASSWORD_STEP, {"password": PASSWORD}, follow=True)
    assert "Вход в этот кошелёк заблокирован." in page_text(response)
    assert "_auth_user_id" not in client.session


def test_signed_in_owners_skip_the_sign_in_pages(client):
    wallet = make_wallet()
    client.force_login(wallet.user)
    assert client.get(LOGIN)["Location"] == HOME
    assert client.get(reverse("account_change_phone")).status_code == 404
    assert client.get(VERIFY).status_code == 404


# --- password reset (by an SMS code: tests/security/test_account_recovery.py), logout ---


def test_logout_needs_a_post(client):
    wallet = make_wallet()
    phone_step(client, wallet.number)
    client.post(PASSWORD_STEP, {"password": PASSWORD})

    page = client.get(reverse("account_logout"))
    assert "Вы уверены, что хотите выйти?" in page_text(page)
    assert client.session["_auth_user_id"] == str(wallet.user_id)  # a GET changes nothing

    response = client.post(reverse("account_logout"))
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert client.get(HOME)["Location"].startswith(LOGIN)


# --- languages ---


def test_kyrgyz_screens_follow_the_language_cookie(client, send_sms_now):
    client.cookies["kapchyk_language"] = "ky"
    assert '<html lang="ky">' in client.get(LOGIN).content.decode()
    register(client, send_sms_now)
    page = client.get(SIGNUP, follow=True)  # back to the pending code step
    assert '<html lang="ky">' in page.content.decode()
    assert NEW_SHOWN in page_text(page)
    client.post(VERIFY, {"code": last_code(NEW)})
    assert User.objects.get(phone=NEW).language == "ky"


def test_the_language_is_saved_at_sign_in(client):
    wallet = make_wallet()
    assert wallet.user.language == "ru"
    client.cookies["kapchyk_language"] = "ky"
    phone_step(client, wallet.number)
    page = client.get(PASSWORD_STEP)
    assert '<html lang="ky">' in page.content.decode()
    assert "+996 " in page_text(page)
    client.post(PASSWORD_STEP, {"password": PASSWORD})
    wallet.user.refresh_from_db()
    assert wallet.user.language == "ky"


# --- a stranger sees only their own money ---


def test_history_shows_only_the_owners_operations(client, django_assert_max_num_queries):
    alice = make_wallet()
    bob = make_wallet()
    services.cashin_create(wallet=alice, amount=111_00, reason="Alice terminal", created_by=None)
    services.cashin_create(wallet=bob, amount=222_00, reason="Bob desk", created_by=None)

    phone_step(client, alice.number)
    client.post(PASSWORD_STEP, {"password": PASSWORD})
    with django_assert_max_num_queries(10):
        page = client.get(reverse("wallets:history"))
    text = page_text(page)
    assert "Alice terminal" in text and "+ 111,00 сом" in text
    assert "Bob desk" not in text and "222,00" not in text
    home = page_text(client.get(HOME))
    assert "Alice terminal" in home and "Bob desk" not in home


def test_the_sms_code_typed_in_other_digits_is_the_same_code(client, send_sms_now):
    register(client, send_sms_now)
    arabic = last_code(NEW).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.post(VERIFY, {"action": "verify", "code": arabic})
    assert response["Location"] == HOME
    assert Wallet.objects.filter(number=NEW).exists()


def test_the_browser_that_registers_is_no_new_device_but_another_one_is(client, send_sms_now):
    """The registration's own sign-in (after the SMS code) is the wallet's first device: no
    «new device» notice; the next browser that signs in to the wallet gets one."""
    from django.test import Client

    from notifications.devices import DEVICE_COOKIE
    from notifications.models import Notification

    register(client, send_sms_now)
    client.post(VERIFY, {"action": "verify", "code": last_code(NEW)})
    user = User.objects.get(phone=NEW)
    assert "_auth_user_id" in client.session
    assert DEVICE_COOKIE in client.cookies  # remembered as the owner's device
    assert not Notification.objects.filter(user=user).exists()

    other = Client()
    other.post(LOGIN, {"phone": NEW_TYPED})
    assert other.post(PASSWORD_STEP, {"password": GOOD_PASSWORD})["Location"] == HOME
    assert list(Notification.objects.filter(user=user).values_list("kind", flat=True)) == [
        "new_device"
    ]
