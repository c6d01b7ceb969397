"""`manage.py ussd NUMBER`: a phone in the terminal."""

import io

import pytest
from django.core.management import CommandError, call_command

from billing.models import Payment
from tests.ussd.conftest import ussd_wallet

pytestmark = pytest.mark.django_db


def play(monkeypatch, number, lines):
    typed = iter(lines)

    def fake_input(prompt=""):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    out = io.StringIO()
    call_command("ussd", number, stdout=out)
    return out.getvalue()


def test_terminal_phone_pays(monkeypatch, catalogue, django_capture_on_commit_callbacks):
    wallet = ussd_wallet(balance=100_00, pin="4826")
    with django_capture_on_commit_callbacks(execute=True):
        out = play(
            monkeypatch, wallet.number, ["3", "3", "14", "14", "01503200010123", "10", "4826"]
        )
    assert "Kapchyk *900#\n2 Переводы\n3 Платежи/Комм.услуги\n8 Баланс/Настройки" in out
    assert "Проверьте:\nДостэк\nСчет: 01503200010123\nСумма: 10,00 сом" in out
    assert "Платеж принят." in out
    assert Payment.objects.get().channel == "ussd"


def test_terminal_phone_hangs_up_at_end_of_input(monkeypatch, catalogue):
    wallet = ussd_wallet(balance=100_00)
    out = play(monkeypatch, wallet.number, ["8"])
    assert "Баланс: 100,00 сом" in out
    assert out.rstrip().endswith("(hung up)")


def test_terminal_phone_o_number(monkeypatch, catalogue):
    out = play(monkeypatch, "0700123456", [])
    assert "*900# обслуживает только номера Megacom и Beeline." in out


def test_terminal_phone_refuses_a_bad_number(catalogue):
    with pytest.raises(CommandError):
        call_command("ussd", "12345")
