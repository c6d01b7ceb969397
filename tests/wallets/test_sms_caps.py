"""SMS flooding caps (wallets.sms.sms_quota_consume): per number a day, per client address
an hour across numbers, and an hourly budget for every SMS with an alert log line.

Counted in the cache; tests/security/test_limits_across_processes.py shows they hold
across two gunicorn servers on a shared cache."""

import datetime
import logging
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from wallets.models import SmsMessage
from wallets.sms import SmsCapped, send_sms, sms_quota_consume

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
SIGNUP = reverse("account_signup")
VERIFY = reverse("account_verify_phone")
PER_IP_RU = "Слишком много SMS-кодов запрошено из вашей сети. Попробуйте снова через час."
PER_NUMBER_RU = "На этот номер сегодня отправлено слишком много SMS. Попробуйте снова завтра."
BUDGET_RU = "Сейчас SMS-коды не отправляются. Попробуйте позже."


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", response.content.decode()).split())


def register(client, number, on_commit, ip="127.0.0.1"):
    """The phone step and the registration form for `number`, from address `ip`."""
    response = client.post(LOGIN, {"phone": number}, REMOTE_ADDR=ip)
    assert response["Location"] == SIGNUP
    form = {
        "email": "aigul@example.kg",
        "password1": "kapchyk2026",
        "password2": "kapchyk2026",
        "offer": "on",
    }
    with on_commit(execute=True):
        return client.post(SIGNUP, form, REMOTE_ADDR=ip)


def refused_with(response, message):
    return response.status_code == 429 and message in page_text(response)


def test_one_address_gets_codes_for_a_few_numbers_only(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SMS_CAP_PER_IP_HOUR = 3
    numbers = [f"+99670055510{i}" for i in range(5)]
    for number in numbers[:3]:
        assert register(client, number, django_capture_on_commit_callbacks)["Location"] == VERIFY
    response = register(client, numbers[3], django_capture_on_commit_callbacks)
    assert refused_with(response, PER_IP_RU)
    assert SmsMessage.objects.count() == 3
    # Another address is not held up by this one.
    other = register(client, numbers[4], django_capture_on_commit_callbacks, ip="10.1.2.3")
    assert other["Location"] == VERIFY
    assert SmsMessage.objects.count() == 4


def test_one_number_gets_a_few_codes_a_day_whatever_the_address(
    client, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.SMS_CAP_PER_NUMBER_DAY = 2
    number = "+996700555111"
    for i in range(2):
        response = register(client, number, django_capture_on_commit_callbacks, ip=f"10.0.0.{i}")
        assert response["Location"] == VERIFY
    response = register(client, number, django_capture_on_commit_callbacks, ip="10.0.0.9")
    assert refused_with(response, PER_NUMBER_RU)
    assert SmsMessage.objects.filter(phone=number).count() == 2
    # The next day (Bishkek time) the number may have codes again.
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    sms_quota_consume(phone=number, ip="10.0.0.9")


def test_the_message_is_in_the_visitors_language(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SMS_CAP_PER_IP_HOUR = 0
    client.cookies["kapchyk_language"] = "ky"
    response = register(client, "+996700555111", django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert '<html lang="ky">' in response.content.decode()
    assert "Сиздин тармактан өтө көп SMS-код суралды." in page_text(response)


def test_the_hourly_budget_alerts_once_and_then_refuses_visitor_codes(
    client, settings, django_capture_on_commit_callbacks, caplog
):
    settings.SMS_BUDGET_PER_HOUR = 3
    with caplog.at_level(logging.WARNING, logger="wallets.sms"):
        for i in range(3):
            send_sms(phone=f"+99655500000{i}", text="Капчык: оплачено")
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        # Past the budget: owed SMS (a payment's) still go, with one alert for the hour.
        send_sms(phone="+996555000008", text="Капчык: оплачено")
        send_sms(phone="+996555000009", text="Капчык: оплачено")
    alerts = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(alerts) == 1
    assert "SMS hourly budget exceeded" in alerts[0].getMessage()
    assert "SMS_BUDGET_PER_HOUR=3" in alerts[0].getMessage()
    assert SmsMessage.objects.count() == 5
    # A visitor's code is not sent until the hour ends.
    response = register(client, "+996700555111", django_capture_on_commit_callbacks)
    assert refused_with(response, BUDGET_RU)
    assert SmsMessage.objects.count() == 5
    next_hour = timezone.now() + datetime.timedelta(hours=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: next_hour)
        sms_quota_consume(phone="+996700555111", ip="10.9.9.9")


def test_resending_the_code_counts_toward_the_caps(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SMS_CAP_PER_NUMBER_DAY = 1
    register(client, "+996700555111", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY, {"action": "resend"})
    assert refused_with(response, PER_NUMBER_RU)
    assert SmsMessage.objects.count() == 1


def test_the_caps_are_settings():
    from django.conf import settings

    assert (
        settings.SMS_CAP_PER_NUMBER_DAY,
        settings.SMS_CAP_PER_IP_HOUR,
        settings.SMS_BUDGET_PER_HOUR,
    ) == (10, 10, 1000)
    with pytest.raises(SmsCapped):
        for _ in range(11):
            sms_quota_consume(phone="+996700555111", ip=None)
