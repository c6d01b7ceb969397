"""Rows every page loads, without the ORM's compiler on every request.

`Joined` is a SELECT of one model and models it points to by non-null foreign keys (INNER
JOINs), plus optional SQL expressions (a COUNT for the header's bell, ...). Its SQL is
built once per process and database vendor from the models' own metadata, so the models
stay the schema; a row becomes model instances as the ORM builds them (Model.from_db, the
backend's and the fields' converters applied) with the related instances cached on it.
Compiling a queryset costs more Python than running it: this is for the few lookups that
every page of a flow repeats.
"""

from django.db import connection


class Joined:
    def __init__(self, model, related=(), *, extra=(), where: str):
        """`related`: names of non-null ForeignKey/OneToOneField fields of `model`;
        `extra`: SQL expressions (they may use the alias t0 of `model`), returned beside
        the instance; `where`: the condition, on t0, with %s parameters."""
        self.model, self.related, self.extra, self.where = model, tuple(related), extra, where
        self._built = {}

    def _build(self):
        built = self._built.get(connection.vendor)
        if built is not None:
            return built
        quote = connection.ops.quote_name
        parts, columns = [], []
        joins = []
        models = [(None, self.model)]
        for n, name in enumerate(self.related, start=1):
            field = self.model._meta.get_field(name)
            if field.null or not field.many_to_one and not field.one_to_one:
                raise ValueError(f"{name}: only non-null foreign keys can be joined")
            target = field.related_model
            joins.append(
                f"INNER JOIN {quote(target._meta.db_table)} t{n} "
                f"ON t{n}.{quote(field.target_field.column)} = t0.{quote(field.column)}"
            )
            models.append((name, target))
        for n, (name, model) in enumerate(models):
            alias = f"t{n}"
            fields = list(model._meta.concrete_fields)
            converters = []
            for field in fields:
                expression = field.get_col(alias)
                found = connection.ops.get_db_converters(expression)
                found += expression.get_db_converters(connection)
                converters.append((found, expression))
                columns.append(f"{alias}.{quote(field.column)}")
            parts.append((name, model, [f.attname for f in fields], converters))
        columns += list(self.extra)
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(self.model._meta.db_table)} t0 "  # noqa: S608
            f"{' '.join(joins)} WHERE {self.where}"
        )
        built = self._built[connection.vendor] = (sql, parts)
        return built

    def first(self, params):
        """(the instance, [the extra values]) of the first row, or (None, None)."""
        sql, parts = self._build()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None, None
        instances, at = {}, 0
        for name, model, attnames, converters in parts:
            values = list(row[at : at + len(attnames)])
            for n, (found, expression) in enumerate(converters):
                for converter in found:
                    values[n] = converter(values[n], expression, connection)
            instances[name] = model.from_db(connection.alias, attnames, values)
            at += len(attnames)
        base = instances.pop(None)
        for name, instance in instances.items():
            setattr(base, name, instance)  # cached, as select_related leaves it
        return base, list(row[at:])
