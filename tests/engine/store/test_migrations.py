"""The Alembic migrations build exactly the schema the models describe, on every database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from engine.store.database import alembic_config
from engine.store.models import Base


def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert differences == []
            assert MigrationContext.configure(connection).get_current_revision() == _head(database_url)
    finally:
        engine.dispose()


def _head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_there_is_one_head_and_it_is_the_newest_numbered_migration(database_url):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    numbers = sorted(revision.revision for revision in script.walk_revisions())
    assert script.get_heads() == [numbers[-1]]


def test_constraint_names_follow_the_convention(database_url):
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        assert inspector.get_pk_constraint("applications")["name"] in ("pk_applications", None)  # SQLite: unnamed
        uniques = {u["name"] for u in inspector.get_unique_constraints("definitions")}
        assert {"uq_definitions_key_version", "uq_definitions_key_content_hash"} <= uniques
    finally:
        engine.dispose()


def test_job_ids_are_not_reused_after_a_delete(engine, db):
    from sqlalchemy import delete

    from engine.store.models import Job

    with db.transaction() as session:
        first = engine.enqueue_job(session, "anything", {}).id
    with db.transaction() as session:
        session.execute(delete(Job))
    with db.transaction() as session:
        assert engine.enqueue_job(session, "anything", {}).id > first
