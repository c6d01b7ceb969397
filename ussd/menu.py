"""The *900# menu: a state machine over the same services as the web.

`Flow.start()` draws the first screen, `Flow.feed(value)` applies one input; both return
a `Screen`. The state is a JSON-able dict (kept in UssdSession.state) holding the current
step and what was typed so far — never a PIN: typed PINs are only ever compared with
hashes, and a new PIN waits for its repetition as a hash.

The digits are the contract (seeds 000/001 §1–2, flows.md B):
    unknown number: language → 1 → full name → personal INN → 1 → 1 (offer) → PIN by SMS
    3 Платежи/Комм.услуги → 3 Оплатить счет → category (14) → provider (14) → account →
      amount → summary + PIN → payment code
    2 Переводы → recipient's number → amount → check («Имя Ф.», amount) + PIN → transfer code
    8 Баланс/Настройки (balance) → 1 language, 3 Замена пин (old, new, new again)
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from billing.models import Payment, format_code
from billing.services import payment_create, payment_quote, payment_token_new
from providers.models import Category, Provider
from transfers.models import WalletTransfer, masked_number
from transfers.services import recipient_find as transfer_recipient_find
from transfers.services import transfer_create, transfer_quote, transfer_token_new
from wallets import ledger, operations
from wallets.models import User, Wallet
from wallets.money import format_som, parse_som
from wallets.phones import format_number
from wallets.services import wallet_open

from . import services
from .screens import BODY_LIMIT, Screen, compose, fill, paginate, shorten
from .texts import language_or_default, text

logger = logging.getLogger(__name__)

NEXT_PAGE, BACK = "00", "0"


class Flow:
    def __init__(self, *, phone: str, state: dict, language: str = ""):
        self.phone = phone
        self.state = state
        self.lang = language_or_default(state.get("lang") or language)
        self._user: User | None = None
        self._user_loaded = False

    # --- who is calling ---

    @property
    def user(self) -> User | None:
        if not self._user_loaded:
            self._user = (
                User.objects.filter(phone=self.phone).select_related("wallet__account").first()
            )
            self._user_loaded = True
        return self._user

    @property
    def wallet(self) -> Wallet:
        user = self.user
        try:
            return user.wallet
        except Wallet.DoesNotExist:
            return wallet_open(user=user)

    def _registered(self) -> bool:
        user = self.user
        return user is not None and (user.phone_verified or hasattr(user, "wallet"))

    # --- entry points ---

    def start(self) -> Screen:
        if not self._registered():
            return self.go("reg_lang")
        if not self.user.is_active:
            return self.end("blocked")
        self.lang = self.state["lang"] = language_or_default(self.user.language)
        return self.go("main")

    def feed(self, value: str) -> Screen:
        step = self.state.get("step")
        handler = getattr(self, f"on_{step}", None)
        if handler is None:
            return self.start()
        if not step.startswith("reg_"):
            user = self.user
            if user is None or not user.is_active:
                return self.end("blocked")
        with translation.override(self.lang):
            return handler(value.strip())

    # --- drawing ---

    def go(self, step: str, error: str = "") -> Screen:
        self.state["step"] = step
        with translation.override(self.lang):
            return getattr(self, f"show_{step}")(error)

    def t(self, key: str, **values) -> str:
        return text(key, self.lang, **values)

    def end(self, key: str, **values) -> Screen:
        self.state["step"] = "done"
        return compose(shorten(self.t(key, **values), BODY_LIMIT), end=True)

    def menu(self, key: str, error: str = "", back: bool = True, **values) -> Screen:
        nav = (self.t("back"),) if back else ()
        return compose(self.t(key, **values), error=error, nav=nav)

    @staticmethod
    def room(error: str) -> int:
        """Room for the main text under `error` (a long error gets shortened instead)."""
        return BODY_LIMIT - (min(len(error), 60) + 1 if error else 0)

    def invalid(self) -> str:
        return self.t("invalid_choice")

    def som(self, tyiyn: int) -> str:
        return f"{format_som(tyiyn, unit=False)} {self.t('som')}"

    def locked_screen(self, until) -> Screen:
        return self.end("pin_locked", until=timezone.localtime(until).strftime("%H:%M"))

    # --- registration ---

    def show_reg_lang(self, error):
        return compose(self.t("choose_language"), error=error)

    def on_reg_lang(self, value):
        if value not in ("1", "2"):
            return self.go("reg_lang", self.t("invalid_choice_both"))
        self.lang = self.state["lang"] = "ky" if value == "1" else "ru"
        return self.go("reg_confirm")

    def show_reg_confirm(self, error):
        return compose(self.t("reg_confirm", number=format_number(self.phone)), error=error)

    def on_reg_confirm(self, value):
        if value != "1":
            return self.go("reg_confirm", self.invalid())
        return self.go("reg_name")

    def show_reg_name(self, error):
        return compose(self.t("reg_name"), error=error)

    def on_reg_name(self, value):
        try:
            self.state["name"] = services.full_name_clean(value)
        except ValidationError:
            return self.go("reg_name", self.t("reg_name_invalid"))
        return self.go("reg_inn")

    def show_reg_inn(self, error):
        return compose(self.t("reg_inn"), error=error)

    def on_reg_inn(self, value):
        try:
            self.state["inn"] = services.personal_inn_clean(value)
        except ValidationError as exc:
            return self.go("reg_inn", self.t(exc.code, **(exc.params or {})))
        return self.go("reg_check")

    def show_reg_check(self, error):
        main = fill(
            "reg_check",
            self.lang,
            self.room(error),
            shrink=("name",),
            name=self.state.get("name", ""),
            inn=self.state.get("inn", ""),
        )
        return compose(main, error=error)

    def on_reg_check(self, value):
        if value == "1":
            return self.go("reg_offer")
        if value == "2":
            return self.go("reg_name")
        return self.go("reg_check", self.invalid())

    def show_reg_offer(self, error):
        from django.conf import settings

        return compose(self.t("reg_offer", offer=settings.USSD_OFFER_URL), error=error)

    def on_reg_offer(self, value):
        if value != "1":
            return self.go("reg_offer", self.invalid())
        try:
            services.ussd_register(
                phone=self.phone,
                full_name=self.state.get("name", ""),
                personal_inn=self.state.get("inn", ""),
                language=self.lang,
            )
        except ValidationError as exc:
            if exc.code == "exists":
                return self.end("reg_exists")
            logger.warning("USSD registration refused: %s", exc.code)
            return self.end("reg_unavailable")
        return self.end("reg_done")

    # --- main menu ---

    def show_main(self, error):
        return self.menu("main", error, back=False)

    def on_main(self, value):
        if value == "2":
            until = services.pin_locked_until(wallet=self.wallet)
            if until:
                return self.locked_screen(until)
            return self.go("tr_number")
        if value == "3":
            return self.go("payments")
        if value == "8":
            return self.go("settings")
        return self.go("main", self.invalid())

    # --- 3: payments ---

    def show_payments(self, error):
        return self.menu("payments", error)

    def on_payments(self, value):
        if value == BACK:
            return self.go("main")
        if value != "3":
            return self.go("payments", self.invalid())
        until = services.pin_locked_until(wallet=self.wallet)
        if until:
            return self.locked_screen(until)
        self.state["page"] = 0
        return self.go("categories")

    def _categories(self) -> list[Category]:
        reachable = Provider.objects.for_ussd(OuterRef("pk"))
        return list(Category.objects.for_ussd().filter(Exists(reachable)))

    def _providers(self) -> list[Provider]:
        return list(Provider.objects.for_ussd(self.state.get("category")))

    def _list(self, header: str, items: list[tuple[int, str]], error: str) -> Screen:
        t = self.t
        if not items:
            return compose(t("empty"), error=error, nav=(t("back"),))
        header = shorten(header, 60)
        lines = [f"{number} {name}" for number, name in items]
        reserved = len(header) + 1 + len(t("invalid_choice")) + 1
        reserved += len(t("back")) + 1 + len(t("next")) + 1
        pages = paginate(lines, reserved=reserved)
        page = min(max(int(self.state.get("page", 0)), 0), len(pages) - 1)
        self.state["page"] = page
        self.state["pages"] = len(pages)
        nav = (t("back"), t("next")) if page < len(pages) - 1 else (t("back"),)
        return compose("\n".join([header, *pages[page]]), error=error, nav=nav)

    def _list_nav(self, step: str, value: str, back_step: str) -> Screen | None:
        page = int(self.state.get("page", 0))
        if value == NEXT_PAGE:
            if page + 1 < int(self.state.get("pages", 1)):
                self.state["page"] = page + 1
                return self.go(step)
            return self.go(step, self.invalid())
        if value == BACK:
            if page > 0:
                self.state["page"] = page - 1
                return self.go(step)
            return self.go(back_step)
        return None

    def show_categories(self, error):
        items = [(c.ussd_number, c.menu_name) for c in self._categories()]
        return self._list(self.t("categories"), items, error)

    def on_categories(self, value):
        moved = self._list_nav("categories", value, "payments")
        if moved:
            return moved
        chosen = next((c for c in self._categories() if str(c.ussd_number) == value), None)
        if chosen is None:
            return self.go("categories", self.invalid())
        self.state.update(category=chosen.pk, page=0)
        return self.go("providers")

    def show_providers(self, error):
        category = Category.objects.filter(pk=self.state.get("category")).first()
        items = [(p.ussd_number, p.menu_name) for p in self._providers()]
        header = self.t("providers", category=category.menu_name if category else "")
        return self._list(header, items, error)

    def on_providers(self, value):
        moved = self._list_nav("providers", value, "categories")
        if moved:
            if self.state["step"] == "categories":
                self.state["page"] = 0
            return moved
        chosen = next((p for p in self._providers() if str(p.ussd_number) == value), None)
        if chosen is None:
            return self.go("providers", self.invalid())
        self.state["provider"] = chosen.pk
        return self.go("pay_account")

    def _provider(self) -> Provider | None:
        return (
            Provider.objects.active()
            .select_related("account")
            .filter(pk=self.state.get("provider"))
            .first()
        )

    def show_pay_account(self, error):
        provider = self._provider()
        main = fill(
            "pay_account",
            self.lang,
            self.room(error),
            shrink=("label", "provider"),
            provider=provider.menu_name if provider else "",
            label=provider.account_label if provider else "",
        )
        return compose(main, error=error)

    def on_pay_account(self, value):
        provider = self._provider()
        if provider is None:
            return self.end("provider_unavailable")
        try:
            self.state["account"] = provider.validate_account(value)
        except ValidationError:
            return self.go("pay_account", self._account_error(provider))
        return self.go("pay_amount")

    def _account_error(self, provider: Provider) -> str:
        return self.t("account_invalid", hint=provider.account_hint).strip()

    def show_pay_amount(self, error):
        return compose(self.t("pay_amount"), error=error)

    def on_pay_amount(self, value):
        provider = self._provider()
        if provider is None:
            return self.end("provider_unavailable")
        wallet = self.wallet
        try:
            amount = parse_som(value)
        except ValidationError:
            return self.go("pay_amount", self.t("amount_invalid"))
        try:
            quote = payment_quote(
                wallet=wallet,
                provider=provider,
                account=self.state.get("account", ""),
                amount=amount,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            codes = operations.codes_of(exc)
            if "account" in errors:
                return self.go("pay_account", self._account_error(provider))
            if codes & {"amount_below_min", "amount_above_max"}:
                limits = {
                    "min": self.som(provider.min_amount),
                    "max": self.som(provider.max_amount),
                }
                return self.go("pay_amount", self.t("amount_range", **limits))
            if "amount" in errors:
                return self.go("pay_amount", " ".join(errors["amount"]))
            if "limit_exceeded" in codes:
                return self.go("pay_amount", self._limit_text(exc))
            return self.end("pay_refused", reason=" ".join(errors.get(NON_FIELD_ERRORS, [])))
        if quote.balance_after < 0:
            balance = ledger.balance_of(wallet.account)
            return self.go("pay_amount", self.t("amount_funds", balance=self.som(balance)))
        if not wallet.pin_hash:
            services.pin_issue(wallet=wallet)
            return self.end("pin_sent")
        until = services.pin_locked_until(wallet=wallet)
        if until:
            return self.locked_screen(until)
        self.state.update(
            account=quote.account,
            amount=quote.amount,
            fee=quote.fee,
            total=quote.total,
            token=payment_token_new(wallet=wallet, quote=quote),
        )
        return self.go("pay_confirm")

    def _limit_text(self, exc: ValidationError) -> str:
        """The short wording of a limit_exceeded refusal (wallets.operations)."""
        entry = next(
            e for errors in exc.error_dict.values() for e in errors if e.code == "limit_exceeded"
        )
        return self.t(f"limit_{entry.params['limit']}", amount=self.som(entry.params["left"]))

    def show_pay_confirm(self, error):
        provider = self._provider()
        key = "pay_confirm_fee" if self.state.get("fee") else "pay_confirm"
        main = fill(
            key,
            self.lang,
            self.room(error),
            shrink=("provider", "account"),
            provider=provider.menu_name if provider else "",
            account=self.state.get("account", ""),
            amount=self.som(self.state.get("amount", 0)),
            fee=self.som(self.state.get("fee", 0)),
            total=self.som(self.state.get("total", 0)),
        )
        return compose(main, error=error)

    def on_pay_confirm(self, value):
        provider = self._provider()
        if provider is None:
            return self.end("provider_unavailable")
        if not services.pin_format_ok(value):
            return self.go("pay_confirm", self.t("pin_format"))
        wallet = self.wallet
        check = services.pin_check(wallet=wallet, pin=value)
        if check.locked:
            return self.locked_screen(check.locked_until)
        if not check.ok:
            return self.go("pay_confirm", self.t("pin_wrong", left=check.attempts_left))
        try:
            payment = payment_create(
                wallet=wallet,
                provider=provider,
                account=self.state["account"],
                amount=self.state["amount"],
                token=self.state["token"],
                channel=Payment.Channel.USSD,
            )
        except ValidationError as exc:
            if "limit_exceeded" in operations.codes_of(exc):
                return self.end("pay_refused", reason=self._limit_text(exc))
            return self.end("pay_refused", reason=" ".join(exc.messages))
        if payment.status == Payment.Status.FAILED:
            return self.end("pay_failed", code=format_code(payment.code))
        return self.end("pay_done", code=format_code(payment.code))

    # --- 2: transfers to another wallet ---

    def show_tr_number(self, error):
        return compose(self.t("tr_number"), error=error, nav=(self.t("back"),))

    def _recipient_error(self, exc: ValidationError) -> str:
        codes = operations.codes_of(exc)
        for code, key in (
            ("no_wallet", "tr_no_wallet"),
            ("to_self", "tr_to_self"),
            ("recipient_blocked", "tr_blocked"),
        ):
            if code in codes:
                return self.t(key)
        return self.t("bad_number")

    def on_tr_number(self, value):
        if value == BACK:
            return self.go("main")
        try:
            recipient = transfer_recipient_find(number=value)
        except ValidationError as exc:
            return self.go("tr_number", self._recipient_error(exc))
        if recipient.pk == self.wallet.pk:
            return self.go("tr_number", self.t("tr_to_self"))
        self.state["tr_number"] = recipient.number
        return self.go("tr_amount")

    def show_tr_amount(self, error):
        return compose(self.t("tr_amount"), error=error)

    def on_tr_amount(self, value):
        wallet = self.wallet
        try:
            amount = parse_som(value)
        except ValidationError:
            return self.go("tr_amount", self.t("amount_invalid"))
        try:
            quote = transfer_quote(
                wallet=wallet, number=self.state.get("tr_number", ""), amount=amount
            )
        except ValidationError as exc:
            codes = operations.codes_of(exc)
            if "insufficient_funds" in codes:
                balance = ledger.balance_of(wallet.account)
                return self.go("tr_amount", self.t("amount_funds", balance=self.som(balance)))
            if "number" in exc.message_dict:
                return self.go("tr_number", self._recipient_error(exc))
            return self.go("tr_amount", " ".join(exc.messages))
        if not wallet.pin_hash:
            services.pin_issue(wallet=wallet)
            return self.end("pin_sent")
        self.state.update(
            amount=quote.amount,
            fee=quote.fee,
            total=quote.total,
            tr_name=quote.recipient_name,
            token=transfer_token_new(wallet=wallet, quote=quote),
        )
        return self.go("tr_confirm")

    def show_tr_confirm(self, error):
        key = "tr_confirm_fee" if self.state.get("fee") else "tr_confirm"
        main = fill(
            key,
            self.lang,
            self.room(error),
            shrink=("name",),
            name=self.state.get("tr_name", ""),
            number=masked_number(self.state.get("tr_number", "")),
            amount=self.som(self.state.get("amount", 0)),
            fee=self.som(self.state.get("fee", 0)),
            total=self.som(self.state.get("total", 0)),
        )
        return compose(main, error=error)

    def on_tr_confirm(self, value):
        if not services.pin_format_ok(value):
            return self.go("tr_confirm", self.t("pin_format"))
        wallet = self.wallet
        check = services.pin_check(wallet=wallet, pin=value)
        if check.locked:
            return self.locked_screen(check.locked_until)
        if not check.ok:
            return self.go("tr_confirm", self.t("pin_wrong", left=check.attempts_left))
        try:
            operation = transfer_create(
                wallet=wallet,
                number=self.state.get("tr_number", ""),
                amount=self.state.get("amount"),
                token=self.state.get("token", ""),
                channel=WalletTransfer.Channel.USSD,
            )
        except ValidationError as exc:
            if "insufficient_funds" in operations.codes_of(exc):
                balance = ledger.balance_of(wallet.account)
                reason = self.t("amount_funds", balance=self.som(balance))
            else:
                reason = " ".join(exc.messages)
            return self.end("tr_refused", reason=reason)
        return self.end("tr_done", code=operation.display_code)

    # --- 8: balance and settings ---

    def show_settings(self, error):
        balance = ledger.balance_of(self.wallet.account)
        return self.menu("settings", error, balance=self.som(balance))

    def on_settings(self, value):
        if value == BACK:
            return self.go("main")
        if value == "1":
            return self.go("language")
        if value == "3":
            wallet = self.wallet
            if not wallet.pin_hash:
                services.pin_issue(wallet=wallet)
                return self.end("pin_sent")
            until = services.pin_locked_until(wallet=wallet)
            if until:
                return self.locked_screen(until)
            return self.go("pin_old")
        return self.go("settings", self.invalid())

    def show_language(self, error):
        return self.menu("language", error)

    def on_language(self, value):
        if value == BACK:
            return self.go("settings")
        if value not in ("1", "2"):
            return self.go("language", self.invalid())
        services.user_language_set(user=self.user, language="ky" if value == "1" else "ru")
        self.lang = self.state["lang"] = self.user.language
        return self.go("main")

    def show_pin_old(self, error):
        return compose(self.t("pin_old"), error=error)

    def on_pin_old(self, value):
        if not services.pin_format_ok(value):
            return self.go("pin_old", self.t("pin_format"))
        check = services.pin_check(wallet=self.wallet, pin=value)
        if check.locked:
            return self.locked_screen(check.locked_until)
        if not check.ok:
            return self.go("pin_old", self.t("pin_wrong", left=check.attempts_left))
        self.state["seen"] = check.hash
        return self.go("pin_new")

    def show_pin_new(self, error):
        return compose(self.t("pin_new"), error=error)

    def on_pin_new(self, value):
        if not services.pin_format_ok(value):
            return self.go("pin_new", self.t("pin_format"))
        if services.pin_matches(value, self.state.get("seen", "")):
            return self.go("pin_new", self.t("pin_same"))
        self.state["new"] = services.pin_hash_new(value)
        return self.go("pin_repeat")

    def show_pin_repeat(self, error):
        return compose(self.t("pin_repeat"), error=error)

    def on_pin_repeat(self, value):
        if not services.pin_matches(value, self.state.get("new", "")):
            self.state.pop("new", None)
            return self.go("pin_new", self.t("pin_mismatch"))
        changed = services.pin_change(
            wallet=self.wallet, expected_hash=self.state.get("seen", ""), new_hash=self.state["new"]
        )
        return self.end("pin_changed" if changed else "pin_conflict")


# Session state that must not outlive the dialogue (hashes, the payment token).
SENSITIVE_KEYS = ("seen", "new", "token", "inn", "name")
