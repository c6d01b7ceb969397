"""A phone in the terminal: dial *900# from NUMBER and play the session at the keyboard.

    python manage.py ussd +996555123456

Every line typed is one input, sent through the same handling as the gateway's callback
(/ussd/ → ussd.engine.handle), screen by screen, until an END screen or end of input (Ctrl-D).
SMS sent meanwhile (the PIN, the payment code) are printed by the console SMS backend.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ussd import engine
from wallets.phones import normalize_wallet_number


class Command(BaseCommand):
    help = "Dial *900# from a number and play the USSD session at the keyboard."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the calling mobile number, e.g. +996555123456")

    def handle(self, *args, number, **options):
        try:
            phone = normalize_wallet_number(number)
        except ValidationError as exc:
            raise CommandError(f"Not a wallet number: {number}") from exc
        session_id = f"term-{secrets.token_hex(6)}"
        inputs: list[str] = []
        self.stdout.write(f"Dialling *900# from {phone} (session {session_id}); Ctrl-D hangs up.\n")
        while True:
            answer = self._request(session_id, phone, "*".join(inputs))
            kind, _sep, body = answer.partition(" ")
            self.stdout.write("┌" + "─" * 32 + "\n" + body + "\n└" + "─" * 32 + f" [{len(answer)}]")
            if kind != "CON":
                return
            try:
                line = input("> ")
            except EOFError:
                self.stdout.write("\n(hung up)")
                return
            inputs.append(line.strip().replace("*", ""))

    def _request(self, session_id: str, phone: str, text: str) -> str:
        # The same handling as the gateway's callback, minus the gateway's credentials.
        return engine.handle(session_id=session_id, phone=phone, text=text)
