"""Run as a program by tests/test_sentry.py with SENTRY_DSN pointing at a local endpoint:
Django starts with that setting, then a request with secrets fails, an error is logged
with secrets and a breadcrumb holds one. Prints "sent" once the SDK has flushed."""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import sentry_sdk  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402


class ProbeError(Exception):
    pass


def failing(request):
    pin = request.POST.get("pin")  # a local variable the stack frame carries
    card_number = "4111 1111 1111 1111"
    sentry_sdk.add_breadcrumb(
        category="sms",
        message="SMS Капчык: код 583920. Никому его не сообщайте.",
        data={"code": "583920"},
    )
    raise ProbeError(f"payment refused for PIN {pin}, card {card_number}, cvv=737")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("fail/", failing), path("pay/receipt/<str:code>/", fine)]

with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/fail/?code=771204&token=tok-XYZ-secret",
        {"pin": "4826", "password": "hunter2-Secret", "cvv": "737", "card": "5500005555555559"},
        headers={"Authorization": "Basic a2FwY2h5azpzM2NyZXQ=", "X-USSD-Secret": "ussd-secret-77"},
    )
    assert response.status_code == 500, response.status_code
    logging.getLogger("kapchyk.probe").error(
        "SMS to %s failed: Kapchyk code: %s",
        "+996555123456",
        "583920",
        extra={"password": "hunter2-Secret", "pan": "4111111111111111", "detail": "cvv 737"},
    )
sentry_sdk.flush(timeout=10)
print("sent")
