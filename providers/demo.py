"""The demo catalogue: loaded by `manage.py demo` (make run) and the tests' `catalogue` fixture.

Not by a migration: a production `migrate` installs the schema, the public offer and the staff
groups, never these providers. `load(Category, Provider, Account)` takes the model classes
(any model classes with these fields); it is idempotent (get-or-create by slug / code).
"""

SOM = 100

# slug, name_ru, name_ky, icon, position, ussd_number
CATEGORIES = [
    ("mobile", "Мобильная связь", "Мобилдик байланыш", "icons/mobile.svg", 10, 1),
    ("internet", "Интернет и ТВ", "Интернет жана ТВ", "icons/internet.svg", 20, 2),
    ("utilities", "Коммунальные услуги", "Коммуналдык кызматтар", "icons/utilities.svg", 30, 3),
    ("education", "Образование", "Билим берүү", "icons/education.svg", 40, 5),
    ("transport", "Транспорт", "Транспорт", "icons/transport.svg", 50, 6),
    ("other", "Другие", "Башкалар", "icons/other.svg", 90, 14),
]

# The *900# menu names a category differently from the web (seed 001 §2.4).
CATEGORY_USSD_NAMES = {"other": "Другие услуги"}

PHONE_RU = ("Номер телефона", "9 цифр после +996, например 555123456")
PHONE_KY = ("Телефон номери", "+996дан кийинки 9 сан, мисалы 555123456")
LS_RU = "Лицевой счёт"
LS_KY = "Жеке эсеп"


def _p(category, slug, name_ru, name_ky, label, hint, regex, **extra):
    row = {
        "category": category,
        "slug": slug,
        "name_ru": name_ru,
        "name_ky": name_ky,
        "account_label_ru": label[0],
        "account_label_ky": label[1],
        "account_hint_ru": hint[0],
        "account_hint_ky": hint[1],
        "account_regex": regex,
        "logo": f"logos/{slug}.svg",
    }
    row.update(extra)
    return row


PROVIDERS = [
    # «Другие» — the DosTek group services and Hoster.kg, as in the operators' instructions.
    _p(
        "other",
        "dostek",
        "DosTek group",
        "DosTek group",
        ("ИНН компании", "Компаниянын ИННи"),
        (
            "ИНН организации или ИП, чей баланс в СОчИ пополняется: 14 цифр",
            "СОчИдеги балансы толукталуучу уюмдун же жеке ишкердин ИННи: 14 сан",
        ),
        r"\d{14}",
        account_validators="inn_date",
        ussd_name="Достэк",
        ussd_number=14,
        position=10,
        min_amount=1 * SOM,
        max_amount=500_000 * SOM,
    ),
    _p(
        "other",
        "dostek-ecp",
        "Оплата ЭЦП",
        "ЭЦП үчүн төлөм",
        ("Номер платёжного счёта", "Төлөө эсебинин номери"),
        (
            "16 цифр: номер платёжного счёта, выданный при регистрации ЭЦП",
            "16 сан: ЭЦП каттоодо берилген төлөө эсебинин номери",
        ),
        r"\d{16}",
        ussd_name="Оплата ЭЦП",
        ussd_number=15,
        position=20,
        min_amount=100 * SOM,
        max_amount=20_000 * SOM,
    ),
    _p(
        "other",
        "hoster",
        "Hoster.kg",
        "Hoster.kg",
        ("Код оплаты", "Төлөө коду"),
        (
            "Код оплаты из личного кабинета Hoster.kg (Финансы → Платежи), начинается с 00",
            "Hoster.kg жеке кабинетиндеги төлөө коду (Финансы → Платежи), 00 менен башталат",
        ),
        r"\d{5,20}",
        account_validators="starts_00",
        ussd_name="Hoster.kg",
        ussd_number=16,
        position=30,
        min_amount=10 * SOM,
        max_amount=100_000 * SOM,
        fee_percent="1.00",
    ),
    _p(
        "other",
        "tunduk-gov",
        "Госуслуги (Түндүк)",
        "Мамлекеттик кызматтар (Түндүк)",
        ("Номер заявки", "Арыздын номери"),
        (
            "Номер заявки из портала госуслуг: 10 цифр",
            "Мамкызматтар порталындагы арыздын номери: 10 сан",
        ),
        r"\d{10}",
        ussd_number=17,
        position=40,
        fee_fixed=5 * SOM,
    ),
    # Mobile operators: the account is the 9-digit number after +996.
    _p(
        "mobile",
        "megacom",
        "MegaCom",
        "MegaCom",
        (PHONE_RU[0], PHONE_KY[0]),
        (PHONE_RU[1], PHONE_KY[1]),
        r"0?(55\d|755|88[08]|99[05-9])\d{6}",
        ussd_number=1,
        position=10,
        max_amount=5_000 * SOM,
    ),
    _p(
        "mobile",
        "beeline",
        "Beeline",
        "Beeline",
        (PHONE_RU[0], PHONE_KY[0]),
        (PHONE_RU[1], PHONE_KY[1]),
        r"0?(22\d|600|77\d)\d{6}",
        ussd_number=2,
        position=20,
        max_amount=5_000 * SOM,
    ),
    _p(
        "mobile",
        "o",
        "O!",
        "O!",
        (PHONE_RU[0], PHONE_KY[0]),
        (PHONE_RU[1], PHONE_KY[1]),
        r"0?(50\d|70\d)\d{6}",
        ussd_number=3,
        position=30,
        max_amount=5_000 * SOM,
    ),
    # Internet and TV.
    _p(
        "internet",
        "saima",
        "Saima Telecom",
        "Saima Telecom",
        (LS_RU, LS_KY),
        ("Лицевой счёт из договора: 5–8 цифр", "Келишимдеги жеке эсеп: 5–8 сан"),
        r"\d{5,8}",
        ussd_number=1,
        position=10,
    ),
    _p(
        "internet",
        "aknet",
        "AkNet",
        "AkNet",
        ("Логин", "Логин"),
        (
            "Логин из договора: латинские буквы и цифры",
            "Келишимдеги логин: латын тамгалары жана сандар",
        ),
        r"[A-Za-z0-9_.]{3,32}",
        ussd_number=2,
        position=20,
    ),
    _p(
        "internet",
        "kyrgyztelecom",
        "Кыргызтелеком",
        "Кыргызтелеком",
        (LS_RU, LS_KY),
        ("Лицевой счёт из квитанции: 6–12 цифр", "Квитанциядагы жеке эсеп: 6–12 сан"),
        r"\d{6,12}",
        ussd_number=3,
        position=30,
    ),
    _p(
        "internet",
        "jet",
        "Jet",
        "Jet",
        (LS_RU, LS_KY),
        ("Лицевой счёт: 6–10 цифр", "Жеке эсеп: 6–10 сан"),
        r"\d{6,10}",
        ussd_number=4,
        position=40,
    ),
    # Utilities.
    _p(
        "utilities",
        "severelectro",
        "Северэлектро",
        "Түндүкэлектр",
        (LS_RU, LS_KY),
        (
            "Лицевой счёт из квитанции за свет: 10 цифр",
            "Жарык үчүн квитанциядагы жеке эсеп: 10 сан",
        ),
        r"\d{10}",
        ussd_number=1,
        position=10,
    ),
    _p(
        "utilities",
        "gazprom-kg",
        "Газпром Кыргызстан",
        "Газпром Кыргызстан",
        (LS_RU, LS_KY),
        ("Лицевой счёт абонента газа: 8–12 цифр", "Газ абонентинин жеке эсеби: 8–12 сан"),
        r"\d{8,12}",
        ussd_number=2,
        position=20,
    ),
    _p(
        "utilities",
        "vodokanal",
        "Бишкекводоканал",
        "Бишкекводоканал",
        (LS_RU, LS_KY),
        (
            "Лицевой счёт из квитанции за воду: 6–9 цифр",
            "Суу үчүн квитанциядагы жеке эсеп: 6–9 сан",
        ),
        r"\d{6,9}",
        ussd_number=3,
        position=30,
    ),
    _p(
        "utilities",
        "teploseti",
        "Бишкектеплосеть",
        "Бишкектеплосеть",
        (LS_RU, LS_KY),
        ("Лицевой счёт за отопление: 6–10 цифр", "Жылытуу үчүн жеке эсеп: 6–10 сан"),
        r"\d{6,10}",
        ussd_number=4,
        position=40,
    ),
    _p(
        "utilities",
        "tazalyk",
        "Тазалык",
        "Тазалык",
        (LS_RU, LS_KY),
        ("Лицевой счёт за вывоз мусора: 6–10 цифр", "Таштанды ташуу үчүн жеке эсеп: 6–10 сан"),
        r"\d{6,10}",
        ussd_number=5,
        position=50,
    ),
    # Education.
    _p(
        "education",
        "kstu",
        "КГТУ им. И. Раззакова",
        "И. Раззаков атн. КМТУ",
        ("Номер студента", "Студенттин номери"),
        ("Номер студенческого билета: 6–8 цифр", "Студенттик билеттин номери: 6–8 сан"),
        r"\d{6,8}",
        ussd_number=1,
        position=10,
    ),
    _p(
        "education",
        "knu",
        "КНУ им. Ж. Баласагына",
        "Ж. Баласагын атн. КУУ",
        ("Номер студента", "Студенттин номери"),
        ("Номер студенческого билета: 6–8 цифр", "Студенттик билеттин номери: 6–8 сан"),
        r"\d{6,8}",
        ussd_number=2,
        position=20,
    ),
    # Transport.
    _p(
        "transport",
        "tulpar",
        "Транспортная карта «Тулпар»",
        "«Тулпар» транспорт картасы",
        ("Номер карты", "Картанын номери"),
        ("Номер на обороте карты: 16 цифр", "Картанын артындагы номер: 16 сан"),
        r"\d{16}",
        ussd_number=1,
        position=10,
        max_amount=3_000 * SOM,
    ),
    _p(
        "transport",
        "bishkek-parking",
        "Бишкек Паркинг",
        "Бишкек Паркинг",
        ("Госномер автомобиля", "Унаанын мамлекеттик номери"),
        (
            "Госномер латиницей без пробелов, например 01KG123ABC",
            "Мамлекеттик номер латынча боштуксуз, мисалы 01KG123ABC",
        ),
        r"[0-9]{2}KG[0-9]{3}[A-Z]{3}",
        ussd_number=2,
        position=20,
        max_amount=5_000 * SOM,
    ),
]


def load(Category, Provider, Account) -> None:  # noqa: N803 - model classes
    categories = {}
    has_menu_name = any(f.name == "ussd_name" for f in Category._meta.get_fields())
    for slug, name_ru, name_ky, icon, position, ussd in CATEGORIES:
        categories[slug], _ = Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name_ru": name_ru,
                "name_ky": name_ky,
                "icon": icon,
                "position": position,
                "ussd_number": ussd,
            },
        )
        if has_menu_name and CATEGORY_USSD_NAMES.get(slug, ""):
            Category.objects.filter(slug=slug, ussd_name="").update(
                ussd_name=CATEGORY_USSD_NAMES[slug]
            )
    for row in PROVIDERS:
        row = dict(row)
        slug = row["slug"]
        if Provider.objects.filter(slug=slug).exists():
            continue
        account, _ = Account.objects.get_or_create(
            code=f"provider:{slug}", defaults={"kind": "provider", "name": row["name_ru"]}
        )
        row["category"] = categories[row["category"]]
        Provider.objects.create(account=account, **row)
