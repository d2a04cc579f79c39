"""Single sign-on through OpenID Connect, against a real provider on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
import pytest

from tests.webui.conftest import add_staff, csrf_of
from tests.webui.oidc_provider import OidcProvider
from webui import create_app
from webui.oidc import OidcSettings


@pytest.fixture
def provider():
    with OidcProvider() as running:
        yield running


@pytest.fixture
def sso_client(engine, provider):
    settings = OidcSettings(provider.issuer, provider.client_id, provider.client_secret, label="見本市 職員認証")
    app = create_app(engine, config={"TESTING": True}, oidc_settings=settings)
    return app.test_client()


def sign_in_through(provider, client):
    """Press the SSO button, let the provider answer, come back with the code."""
    start = client.post("/sign-in/sso", data={"csrf_token": csrf_of(client)})
    assert start.status_code == 302 and start.headers["Location"].startswith(f"{provider.issuer}/authorize")
    answer = httpx.get(start.headers["Location"], follow_redirects=False)
    back = urlparse(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_a_staff_user_signs_in_at_the_provider(engine, db, provider, sso_client):
    add_staff(engine, db, "tanaka", "tanto")
    assert "見本市 職員認証 でログイン" in sso_client.get("/sign-in").get_data(as_text=True)
    done = sign_in_through(provider, sso_client)
    assert done.status_code == 302 and done.headers["Location"] == "/office/"
    assert sso_client.get("/office/").status_code == 200


def test_someone_who_is_not_staff_is_turned_away(engine, db, provider, sso_client):
    provider.login_as = {"sub": "u-9", "preferred_username": "stranger"}
    done = sign_in_through(provider, sso_client)
    assert done.headers["Location"] == "/sign-in"
    page = sso_client.get("/sign-in").get_data(as_text=True)
    assert "stranger はこのシステムの職員ユーザーではありません" in page
    assert sso_client.get("/office/").status_code == 302


def test_a_forged_callback_is_refused(engine, db, provider, sso_client):
    add_staff(engine, db, "tanaka", "tanto")
    sso_client.post("/sign-in/sso", data={"csrf_token": csrf_of(sso_client)})
    forged = sso_client.get("/sign-in/sso/callback?code=made-up&state=wrong")
    assert forged.status_code == 302 and forged.headers["Location"] == "/sign-in"
    assert "シングルサインオンに失敗しました" in sso_client.get("/sign-in").get_data(as_text=True)
    assert sso_client.get("/office/").status_code == 302


def test_without_settings_there_is_no_sso(client):
    assert "でログイン" not in client.get("/sign-in").get_data(as_text=True)
    assert client.post("/sign-in/sso", data={"csrf_token": csrf_of(client)}).status_code == 404


def test_incomplete_settings_are_refused():
    with pytest.raises(ValueError, match="CLIENT_ID"):
        OidcSettings.from_env({"MADOGUCHI_OIDC_ISSUER": "https://idp.example"})
    assert OidcSettings.from_env({}) is None
