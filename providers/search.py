"""Case-insensitive search that works for Cyrillic on SQLite too.

SQLite's LIKE and lower() fold ASCII only, so «достэк» would not find «Достэк». `Fold`
is LOWER() on PostgreSQL and a Python casefold registered on each SQLite connection.
"""

from django.db.models import CharField, Func


class Fold(Func):
    function = "LOWER"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="kapchyk_fold", **extra)


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("kapchyk_fold", 1, _fold, deterministic=True)


def fold(text: str) -> str:
    return text.casefold()
