"""The USSD PIN: hashed, changed by 8 → 3 «Замена пин», locked after 3 wrong ones."""

import datetime
import threading

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.utils import timezone

from tests.ussd.conftest import pin_from_sms, sms_to, ussd_wallet
from ussd import services
from wallets.models import Wallet

pytestmark = pytest.mark.django_db

PIN, NEW = "4826", "7391"

CHANGE = {
    "ru": [
        "CON Баланс/Настройки\nБаланс: 250,00 сом\n1 Язык/Тил\n3 Замена пин\n0 Назад",
        "CON Введите текущий пин-код:",
        "CON Введите новый пин-код (4 цифры):",
        "CON Повторите новый пин-код:",
        "END Пин-код изменен.",
    ],
    "ky": [
        "CON Баланс/Жөндөөлөр\nБаланс: 250,00 сом\n1 Тил/Язык\n3 Пинди алмаштыруу\n0 Артка",
        "CON Учурдагы пин-кодуңузду териңиз:",
        "CON Жаңы пин-кодду териңиз (4 сан):",
        "CON Жаңы пин-кодду кайталаңыз:",
        "END Пин-код алмаштырылды.",
    ],
}
CHANGED_SMS = {
    "ru": "Kapchyk: пин-код *900# изменен. Если это были не Вы, позвоните 0312 986 000.",
    "ky": "Kapchyk: *900# пин-коду алмаштырылды. Бул сиз эмес болсоңуз, 0312 986 000 "
    "номерине чалыңыз.",
}


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_seed_pin_change_path(phone, catalogue, language):
    wallet = ussd_wallet(balance=250_00, language=language, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    screens = [handset.send(v) for v in ("8", "3", PIN, NEW, NEW)]
    assert screens == CHANGE[language]
    wallet.refresh_from_db()
    assert check_password(NEW, wallet.pin_hash)
    assert not check_password(PIN, wallet.pin_hash)
    assert sms_to(wallet.number) == [CHANGED_SMS[language]]
    # The new PIN pays; the session kept no PIN or hash once it ended.
    from ussd.models import UssdSession

    assert UssdSession.objects.get().state == {"step": "done", "lang": language}
    assert services.pin_check(wallet=wallet, pin=NEW).ok


def test_pin_change_mistakes(phone, catalogue):
    wallet = ussd_wallet(pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("8", "3")
    assert handset.send("12345") == "CON Пин-код состоит из 4 цифр.\nВведите текущий пин-код:"
    assert handset.send("0000") == (
        "CON Неверный пин-код. Осталось попыток: 2.\nВведите текущий пин-код:"
    )
    handset.send(PIN)
    new = "Введите новый пин-код (4 цифры):"
    assert handset.send("12a4") == f"CON Пин-код состоит из 4 цифр.\n{new}"
    assert handset.send(PIN) == f"CON Новый пин-код совпадает со старым.\n{new}"
    handset.send(NEW)
    assert handset.send("7390") == f"CON Пин-коды не совпадают.\n{new}"
    handset.send("5555")
    assert handset.send("5555") == "END Пин-код изменен."
    wallet.refresh_from_db()
    assert check_password("5555", wallet.pin_hash)
    assert wallet.pin_failed_attempts == 0


def test_pin_changed_elsewhere_meanwhile_is_not_overwritten(phone, catalogue):
    wallet = ussd_wallet(pin=PIN)
    first, second = phone(wallet.number, "a"), phone(wallet.number, "b")
    for handset in (first, second):
        handset.dial()
        handset.send("8", "3", PIN)
    first.send("1111", "1111")
    second.send("2222")
    assert second.send("2222") == "END Пин-код уже изменен в другой сессии. Наберите *900# снова."
    wallet.refresh_from_db()
    assert check_password("1111", wallet.pin_hash)


def test_three_wrong_pins_lock_for_30_minutes_across_sessions(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    paying = phone(wallet.number, "pay")
    paying.dial()
    summary = paying.send("3", "3", "14", "14", "01503200010123", "10")
    assert paying.send("1111").startswith("CON Неверный пин-код. Осталось попыток: 2.\n")
    assert paying.send("2222").startswith("CON Неверный пин-код. Осталось попыток: 1.\n")
    assert summary.startswith("CON Проверьте:")
    # The third wrong PIN comes from another session: the count is in the database.
    changing = phone(wallet.number, "change")
    changing.dial()
    changing.send("8", "3")
    before = timezone.now()
    locked = changing.send("3333")
    wallet.refresh_from_db()
    until = wallet.pin_locked_until
    assert (
        before + datetime.timedelta(minutes=29)
        < until
        <= timezone.now() + datetime.timedelta(minutes=30)
    )
    at = timezone.localtime(until).strftime("%H:%M")
    assert locked == f"END Пин-код заблокирован до {at}. Попробуйте позже."
    assert wallet.pin_failed_attempts == 0
    [notice] = sms_to(wallet.number)
    assert notice == (
        f"Kapchyk: 3 неверных пин-кода подряд, пин-код *900# заблокирован до {at}. "
        "Если это были не Вы, позвоните 0312 986 000."
    )
    # Even the right PIN does nothing now, in the old session or a new one.
    assert paying.send(PIN) == locked
    again = phone(wallet.number, "later")
    again.dial()
    assert again.send("3", "3") == locked
    again = phone(wallet.number, "later-2")
    again.dial()
    assert again.send("8", "3") == locked
    assert len(sms_to(wallet.number)) == 1
    from billing.models import Payment

    assert Payment.objects.count() == 0
    # Balance and menus stay available: the lock is about the PIN only.
    again = phone(wallet.number, "balance")
    again.dial()
    assert again.send("8").startswith("CON Баланс/Настройки\nБаланс: 100,00 сом")

    # Thirty minutes later the right PIN works and the count starts afresh.
    Wallet.objects.filter(pk=wallet.pk).update(pin_locked_until=timezone.now())
    after = phone(wallet.number, "after")
    after.dial()
    after.send("3", "3", "14", "14", "01503200010123", "10")
    assert after.send("0000").startswith("CON Неверный пин-код. Осталось попыток: 2.")
    assert after.send(PIN).startswith("END Платеж принят.")


def test_right_pin_resets_the_count(catalogue):
    wallet = ussd_wallet(pin=PIN)
    assert services.pin_check(wallet=wallet, pin="0000").attempts_left == 2
    assert services.pin_check(wallet=wallet, pin="0001").attempts_left == 1
    assert services.pin_check(wallet=wallet, pin=PIN).ok
    assert services.pin_check(wallet=wallet, pin="0002").attempts_left == 2
    assert services.pin_locked_until(wallet=wallet) is None


def test_lock_screen_tells_nothing_about_the_wallet(phone, catalogue):
    wallet = ussd_wallet(balance=123_45, pin=PIN)
    wallet.user.full_name = "Бакыт Асанов"
    wallet.user.save()
    Wallet.objects.filter(pk=wallet.pk).update(
        pin_locked_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    handset = phone(wallet.number)
    handset.dial()
    screen = handset.send("8", "3")
    assert screen.startswith("END Пин-код заблокирован до ")
    for secret in ("123,45", "Бакыт", wallet.number, "555", "попыт"):
        assert secret not in screen


def test_pins_are_hashed_with_djangos_default_hasher(settings, catalogue):
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the project uses Django's
    wallet = ussd_wallet(pin=PIN)
    assert wallet.pin_hash.startswith("pbkdf2_sha256$")
    assert PIN not in wallet.pin_hash
    assert services.pin_check(wallet=wallet, pin=PIN).ok
    assert not services.pin_check(wallet=wallet, pin="0000").ok


def test_issued_pin_is_four_digits_and_not_trivial(catalogue, django_capture_on_commit_callbacks):
    pins = set()
    for _ in range(30):
        wallet = ussd_wallet(pin=PIN)
        Wallet.objects.filter(pk=wallet.pk).update(pin_hash="")
        with django_capture_on_commit_callbacks(execute=True):
            assert services.pin_issue(wallet=wallet) is True
            assert services.pin_issue(wallet=wallet) is False  # one PIN, one SMS
        [sms] = sms_to(wallet.number)
        pin = pin_from_sms(sms)
        assert pin.isdigit() and pin not in {"0000", "1234", "1111"}
        assert check_password(pin, Wallet.objects.get(pk=wallet.pk).pin_hash)
        pins.add(pin)
    assert len(pins) > 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_pins_lock_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    wallet = ussd_wallet(pin=PIN)
    barrier = threading.Barrier(6)
    results = []

    def attempt():
        try:
            barrier.wait()
            results.append(services.pin_check(wallet=wallet, pin="0000"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for r in results if r.locked) == 4  # the 3rd..6th
    assert sorted(r.attempts_left for r in results if not r.locked) == [1, 2]
    wallet.refresh_from_db()
    assert wallet.pin_locked_until is not None
    assert len(sms_to(wallet.number)) == 1


def test_a_new_pin_ends_the_owners_web_sign_ins(phone, catalogue, client):
    wallet = ussd_wallet(balance=10_00, language="ru", pin=PIN)
    client.force_login(wallet.user)
    assert client.get("/cabinet/").status_code == 200
    handset = phone(wallet.number)
    handset.dial()
    for value in ("8", "3", PIN, NEW, NEW):
        handset.send(value)
    wallet.refresh_from_db()
    assert check_password(NEW, wallet.pin_hash)
    response = client.get("/cabinet/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
