"""Storage on both databases: migrations build the schema, keys are stored hashed and checked by role,
and a book page's result and status are written together."""

import pytest
from sqlalchemy import inspect, select

from hotich.server.auth import create_key, find_key, has_role, revoke_key
from hotich.server.storage import ApiKey, Job, JobPage, connect, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'hotich.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    migrate(url)
    migrate(url)  # a second run finds nothing to do
    engine, sessions = connect(url)
    yield engine, sessions
    with sessions() as session:  # the PostgreSQL server is shared by the session's tests
        session.query(JobPage).delete()
        session.query(Job).delete()
        session.query(ApiKey).delete()
        session.commit()
    engine.dispose()


def test_migrations_build_every_table(database):
    engine, _ = database
    assert {"api_keys", "jobs", "job_pages", "alembic_version"} <= set(inspect(engine).get_table_names())


def test_keys_are_stored_hashed_and_ranked_by_role(database):
    _, sessions = database
    with sessions() as session:
        record, key = create_key(session, "operator", "scanner 3")
        assert key.startswith("htk_") and key not in {record.key_hash, record.prefix}
        found = find_key(session, key)
        assert found is not None and found.id == record.id
        assert has_role(found, "reader") and has_role(found, "operator") and not has_role(found, "admin")
        assert find_key(session, key + "x") is None
        assert revoke_key(session, record.id) and not revoke_key(session, record.id)
        assert find_key(session, key) is None
        with pytest.raises(ValueError, match="unknown role"):
            create_key(session, "owner")


def test_a_pages_result_and_status_are_kept_together(database):
    _, sessions = database
    with sessions() as session:
        session.add(Job(id="j1", status="running", filename="book.pdf", total_pages=2, done_pages=0))
        session.add_all([JobPage(job_id="j1", index=i, image_path=f"p{i}.png") for i in range(2)])
        session.commit()
    with sessions() as session:
        page = session.scalar(select(JobPage).where(JobPage.job_id == "j1", JobPage.index == 0))
        page.result, page.status = {"page_id": "p0", "records": [{"index": 0}]}, "done"
        session.commit()
    with sessions() as session:
        pages = session.scalars(select(JobPage).where(JobPage.job_id == "j1").order_by(JobPage.index)).all()
        assert [(p.status, p.result) for p in pages] == [("done", {"page_id": "p0", "records": [{"index": 0}]}),
                                                        ("pending", None)]
