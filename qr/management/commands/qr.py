"""Read and write ELQR codes from the terminal, for operators checking a customer's code.

    python manage.py qr decode 'https://app.mbank.kg/qr/#000201…'
    python manage.py qr encode --type static --recipient 996555123456 --name "AIBEK T."

`decode` prints one JSON object (see qr.codes.DECODE_KEYS) and exits 0 for a valid code, 1 for
an invalid one (the JSON then has "valid": false and the reason in "error"). `encode` prints the
link of a code with our provider id (ELQR_PROVIDER_ID) on our router (ELQR_ROUTER_URL).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from qr import codes, elqr


class Command(BaseCommand):
    help = "Decode an ELQR link to JSON (exit 1 when invalid), or encode one with our provider id."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        decode = sub.add_parser("decode", help="print a code as JSON; exit 1 if it is invalid")
        decode.add_argument("link", help="an ELQR link or a bare payload")
        encode = sub.add_parser("encode", help="print the link of a new code")
        encode.add_argument("--type", choices=["static", "dynamic"], required=True)
        encode.add_argument("--recipient", required=True, help="the recipient id (field 32.10)")
        encode.add_argument(
            "--amount", type=int, help="in tyiyn (1 som = 100); a static code may leave it out"
        )
        encode.add_argument("--name", required=True, help="the display name (59, ≤ 25)")
        encode.add_argument("--merchant", help="the merchant id (field 33.00)")
        encode.add_argument("--mcc", help="the merchant category code (52), 4 digits")
        encode.add_argument("--transaction", help="the transaction id (32.11)")
        encode.add_argument("--comment", help="a comment (34, ≤ 32)")
        encode.add_argument(
            "--fixed-amount", action="store_true", help="the payer may not change the amount"
        )

    def handle(self, *args, action, **options):
        if action == "decode":
            self._decode(options["link"])
        else:
            self._encode(options)

    def _decode(self, link: str) -> None:
        result = codes.describe(link)
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        if not result["valid"]:
            # JSON on stdout as for a valid code; the exit status says it is not.
            raise CommandError(f"invalid ELQR code: {result['error']}", returncode=1)

    def _encode(self, options) -> None:
        try:
            code = codes.our_code(
                type=options["type"],
                recipient_id=options["recipient"],
                recipient_editable=False,
                amount=options["amount"],
                amount_editable=not options["fixed_amount"],
                name=options["name"],
                merchant_id=options["merchant"],
                mcc=options["mcc"],
                transaction_id=options["transaction"],
                comment=options["comment"],
            )
            self.stdout.write(codes.link(code))
        except elqr.ElqrError as exc:
            raise CommandError(str(exc)) from None
