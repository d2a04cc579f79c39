"""Web tests: the Flask app over the test database (SQLite and PostgreSQL), a test client,
and signing in as a staff user."""

from __future__ import annotations

import re

import pytest

from webui import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(engine):
    return create_app(engine, config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client, path: str = "/sign-in") -> str:
    """The CSRF token the site hands this client (from the page's meta tag)."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def add_staff(engine, db, name: str, *groups: str, password: str = PASSWORD) -> None:
    with db.transaction() as session:
        engine.add_user(session, name, groups=list(groups), password=password)


def sign_in(client, name: str, password: str = PASSWORD):
    return client.post("/sign-in", data={"name": name, "password": password, "csrf_token": csrf_of(client)})


@pytest.fixture
def staff(engine, db, client):
    """Sign the client in as ``name`` (created with the given groups) and return the client."""
    def signed_in(name: str = "tanaka", *groups: str):
        add_staff(engine, db, name, *(groups or ("tanto",)))
        assert sign_in(client, name).status_code == 302
        return client
    return signed_in
