from django.db import migrations

# PostgreSQL refuses a top-up status change that cards.models.TRANSITIONS does not allow
# (the table as it stands when this migration is written), as billing's 0004 does for
# payments.
TRIGGER = """
CREATE OR REPLACE FUNCTION cards_topup_transition() RETURNS trigger AS $$
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF (OLD.status = 'pending' AND NEW.status IN ('succeeded', 'declined', 'needs_attention'))
       OR (OLD.status = 'needs_attention' AND NEW.status IN ('pending', 'succeeded', 'declined'))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'top-up %: % -> % is not allowed', OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cards_topup_transition ON cards_topup;
CREATE TRIGGER cards_topup_transition BEFORE UPDATE OF status ON cards_topup
    FOR EACH ROW EXECUTE FUNCTION cards_topup_transition();
"""
UNTRIGGER = """
DROP TRIGGER IF EXISTS cards_topup_transition ON cards_topup;
DROP FUNCTION IF EXISTS cards_topup_transition();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, None)  # as written: its RAISE format has % signs

    return run


class Migration(migrations.Migration):
    dependencies = [("cards", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(TRIGGER), _on_postgresql(UNTRIGGER))]
