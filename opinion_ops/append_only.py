"""Tables the database itself keeps append-only (timeline, approvals, audit trail).

On PostgreSQL a trigger refuses UPDATE and DELETE of any row and TRUNCATE of the table, for every
role that has not disabled the trigger (only the table owner can, and the hash chain of the
incident record shows what such an owner changed). Other databases rely on the models' save() and
delete() guards. Used from migrations: `migrations.RunPython(*append_only_operations(table))`.
"""

from collections.abc import Callable
from typing import Any


def _create_sql(table: str) -> str:
    function = f"{table}_append_only"
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
DROP TRIGGER IF EXISTS {function}_truncate ON {table};
CREATE TRIGGER {function}_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def _drop_sql(table: str) -> str:
    function = f"{table}_append_only"
    return f"""
DROP TRIGGER IF EXISTS {function}_truncate ON {table};
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""


def append_only_operations(table: str) -> tuple[Callable[..., None], Callable[..., None]]:
    """(forwards, backwards) for a RunPython that installs or removes the triggers on `table`."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_create_sql(table), None)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_drop_sql(table), None)

    return forwards, backwards
