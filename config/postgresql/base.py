"""Django's PostgreSQL backend, with integers that cannot be cut short.

With parameters bound by the server (config.settings: prepared statements), Django sends a
Python int as the type of the field it is compared with or added to: `Int4` for an
IntegerField, and for a bare int in an expression (`F("balance") + n`: the `n` is a Value
with an IntegerField) too. psycopg's binary `Int4` keeps only the low 32 bits of what does
not fit: a fold of -18 800 000 000 000 tyiyn into a hot account's balance added -928 145 408
instead, without an error (`make bench`'s ledger_check saw it). Here an int that does not fit
its field's type is sent as `Int8`: PostgreSQL then computes in bigint, or refuses an
assignment that does not fit the column, loudly. Values that fit (all of them, normally) are
sent exactly as Django sends them.
"""

from django.db.backends.postgresql import base, operations
from psycopg.types.numeric import Int2, Int4, Int8

_LIMITS = {Int2: 2**15, Int4: 2**31}


def _widening(narrow):
    limit = _LIMITS.get(narrow)
    if limit is None:
        return narrow

    def adapt(value):
        return narrow(value) if -limit <= value < limit else Int8(value)

    return adapt


class DatabaseOperations(operations.DatabaseOperations):
    integerfield_type_map = {
        name: _widening(narrow)
        for name, narrow in operations.DatabaseOperations.integerfield_type_map.items()
    }


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
