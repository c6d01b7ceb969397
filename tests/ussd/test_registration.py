"""Registration from any phone: seeds 000/001 §1.1–1.8, in both languages."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from tests.factories import UserFactory
from tests.ussd.conftest import pin_from_sms, sms_to
from ussd import services
from wallets.models import Offer, User, Wallet

pytestmark = pytest.mark.django_db

NUMBER = "+996555000111"
NAME = "Асель Токтогулова"
INN = "21505199000123"  # a woman born 15.05.1990

SEED_SCREENS = {
    "ru": [
        "CON Тилди тандаңыз / Выберите язык:\n1 Кыргызча\n2 Русский",
        "CON Регистрация кошелька Kapchyk на номер +996 555 000 111.\n"
        "Наберите 1 для подтверждения регистрации:\n1 Подтвердить",
        "CON Введите Ваше имя и фамилию:",
        "CON Введите Ваш личный ИНН, который указан в Вашей ID-карте:",
        f"CON Проверьте данные:\n{NAME}\nИНН: {INN}\n1 Подтвердить\n2 Изменить",
        "CON Ознакомьтесь с договором публичной оферты на сайте kapchyk.kg/offer и "
        "подтвердите это, набрав 1:\n1 Принимаю",
        "END Регистрация прошла успешно! Пин-код придет в SMS. Смените его: *900#, "
        "8 (Баланс/Настройки), 3 (Замена пин).",
    ],
    "ky": [
        "CON Тилди тандаңыз / Выберите язык:\n1 Кыргызча\n2 Русский",
        "CON +996 555 000 111 номерине Kapchyk капчыгын каттоо.\n"
        "Катталууну далилдөө үчүн 1ди териңиз:\n1 Далилдөө",
        "CON Аты-жөнүңүздү териңиз:",
        "CON ID-картаңызда көрсөтүлгөн жеке ИННди териңиз:",
        f"CON Берилмелерди текшериңиз:\n{NAME}\nИНН: {INN}\n1 Далилдөө\n2 Өзгөртүү",
        "CON kapchyk.kg/offer сайтындагы ачык оферта келишими менен таанышканыңызды "
        "далилдөө үчүн 1ди териңиз:\n1 Макулмун",
        "END Ийгиликтүү катталдыңыз! Пин-код SMS менен келет. Аны алмаштыруу: *900#, "
        "8 (Баланс/Жөндөөлөр), 3 (Пинди алмаштыруу).",
    ],
}
PIN_SMS = {
    "ru": "Kapchyk: Ваш пин-код для *900#: {pin}. Никому его не сообщайте. Сменить: *900#, 8, 3.",
    "ky": "Kapchyk: *900# үчүн пин-кодуңуз: {pin}. Аны эч кимге айтпаңыз. Алмаштыруу: *900#, 8, 3.",
}


@pytest.mark.parametrize(("language", "choice"), [("ru", "2"), ("ky", "1")])
def test_seed_registration_path(phone, catalogue, language, choice):
    handset = phone(NUMBER)
    screens = [
        handset.dial(),  # 1.1 *900#
        handset.send(choice),  # 1.2 the language
        handset.send("1"),  # 1.3 1 confirms the registration
        handset.send(NAME),  # 1.4 name and surname
        handset.send(INN),  # 1.5 the personal INN from the ID card
        handset.send("1"),  # 1.6 1 confirms the data
        handset.send("1"),  # 1.7 1 accepts the public offer
    ]
    assert screens == SEED_SCREENS[language]

    # 1.8 the wallet exists and an SMS brings the 4-digit PIN.
    user = User.objects.get(phone=NUMBER)
    assert (user.full_name, user.personal_inn, user.language) == (NAME, INN, language)
    assert user.phone_verified is True
    assert user.has_usable_password() is False
    assert user.offer_version == Offer.objects.current()
    assert user.offer_accepted_at is not None
    wallet = Wallet.objects.get(user=user)
    assert wallet.number == NUMBER
    assert wallet.account.balance == 0
    [sms] = sms_to(NUMBER)
    pin = pin_from_sms(sms)
    assert sms == PIN_SMS[language].format(pin=pin)
    assert check_password(pin, wallet.pin_hash)
    assert pin not in wallet.pin_hash

    # Dialling again now opens the main menu in the chosen language.
    menu = handset.dial(session_id="s-2")
    expected = {
        "ru": "CON Kapchyk *900#\n2 Переводы\n3 Платежи/Комм.услуги\n8 Баланс/Настройки",
        "ky": "CON Kapchyk *900#\n2 Которуулар\n3 Төлөмдөр/Комм.кызматтар\n8 Баланс/Жөндөөлөр",
    }
    assert menu == expected[language]


def test_wrong_name_and_inn_are_asked_again(phone, catalogue):
    handset = phone(NUMBER)
    handset.dial()
    handset.send("2", "1")
    assert handset.send("Асель") == (
        "CON Нужны имя и фамилия буквами.\nВведите Ваше имя и фамилию:"
    )
    assert handset.send("Асель 2000") == (
        "CON Нужны имя и фамилия буквами.\nВведите Ваше имя и фамилию:"
    )
    handset.send(f"  {NAME}  ")
    prompt = "Введите Ваш личный ИНН, который указан в Вашей ID-карте:"
    assert handset.send("123") == f"CON ИНН состоит из 14 цифр.\n{prompt}"
    assert handset.send("3150519900012x") == f"CON ИНН состоит из 14 цифр.\n{prompt}"
    assert handset.send("31505199000123") == f"CON Личный ИНН начинается с 1 или 2.\n{prompt}"
    assert handset.send("23102199000123") == (
        f"CON Дата рождения в ИНН (31.02.1990) неверна.\n{prompt}"
    )
    assert handset.send("21505209900123") == (
        f"CON Дата рождения в ИНН (15.05.2099) неверна.\n{prompt}"
    )
    assert handset.send(INN).startswith("CON Проверьте данные:")
    assert not User.objects.filter(phone=NUMBER).exists()


def test_two_goes_back_to_correct_the_data(phone, catalogue):
    handset = phone(NUMBER)
    handset.dial()
    handset.send("2", "1", "Асел Токтогулова", INN)
    assert handset.send("2") == "CON Введите Ваше имя и фамилию:"
    handset.send(NAME, INN)
    assert handset.send("5") == (
        f"CON Неверный выбор.\nПроверьте данные:\n{NAME}\nИНН: {INN}\n1 Подтвердить\n2 Изменить"
    )
    handset.send("1", "1")
    assert User.objects.get(phone=NUMBER).full_name == NAME


def test_wrong_choices_reask_the_same_step(phone, catalogue):
    handset = phone(NUMBER)
    handset.dial()
    assert handset.send("3") == (
        "CON Туура эмес тандоо / Неверный выбор.\n"
        "Тилди тандаңыз / Выберите язык:\n1 Кыргызча\n2 Русский"
    )
    handset.send("2")
    assert handset.send("9").startswith("CON Неверный выбор.\nРегистрация кошелька")
    handset.send("1", NAME, INN, "1")
    assert handset.send("0").startswith("CON Неверный выбор.\nОзнакомьтесь с договором")
    assert not User.objects.filter(phone=NUMBER).exists()
    assert sms_to(NUMBER) == []


def test_beeline_number_registers_too(phone, catalogue):
    handset = phone("0770 123 456")
    handset.dial()
    handset.send("2", "1", NAME, INN, "1")
    assert handset.send("1").startswith("END Регистрация прошла успешно!")
    assert Wallet.objects.filter(number="+996770123456").exists()


def test_unverified_web_signup_is_taken_over(phone, catalogue):
    # Someone typed this number on the site but never proved it: the phone's owner
    # registers by USSD and the unproven password no longer opens the wallet.
    squatter = UserFactory(phone=NUMBER, phone_verified=False)
    handset = phone(NUMBER)
    assert handset.dial().startswith("CON Тилди тандаңыз")
    handset.send("2", "1", NAME, INN, "1", "1")
    user = User.objects.get(phone=NUMBER)
    assert user.pk == squatter.pk
    assert user.phone_verified is True
    assert user.has_usable_password() is False
    assert Wallet.objects.filter(user=user).exists()


def test_registration_twice_is_refused(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ussd_register(phone=NUMBER, full_name=NAME, personal_inn=INN, language="ru")
    with pytest.raises(ValidationError) as exc, django_capture_on_commit_callbacks(execute=True):
        services.ussd_register(phone=NUMBER, full_name=NAME, personal_inn=INN, language="ru")
    assert exc.value.code == "exists"
    assert Wallet.objects.filter(number=NUMBER).count() == 1
    assert len(sms_to(NUMBER)) == 1


def test_twin_session_finishing_second_is_told_the_number_is_registered(phone, catalogue):
    first, second = phone(NUMBER, "a"), phone(NUMBER, "b")
    for handset in (first, second):
        handset.dial()
        handset.send("2", "1", NAME, INN, "1")
    assert first.send("1").startswith("END Регистрация прошла успешно!")
    assert second.send("1") == "END Этот номер уже зарегистрирован. Наберите *900# снова."
    assert len(sms_to(NUMBER)) == 1


def test_no_published_offer_means_no_registration(phone, catalogue):
    Offer.objects.all().delete()
    handset = phone(NUMBER)
    handset.dial()
    handset.send("2", "1", NAME, INN, "1")
    assert handset.send("1") == "END Регистрация сейчас недоступна. Попробуйте позже."
    assert not User.objects.filter(phone=NUMBER).exists()


def test_inactive_user_is_told_the_wallet_is_blocked(phone, catalogue):
    UserFactory(phone=NUMBER, is_active=False)
    assert phone(NUMBER).dial() == "END Кошелек заблокирован. Call-центр ЭЛСОМ: 0312 986 000."
