"""People of each kind, logged in through the login page, each with their own browser-like
client (cookies kept)."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from app.db import session_factory
from app.main import create_app
from app.people.service import create_user
from tests.helpers import Org, OrgFactory

PASSWORD = "mat-khau-du-dai-123"
_emails = itertools.count(1)


@dataclass
class WebUser:
    client: TestClient
    org: Org
    email: str

    def csrf(self, path: str = "/") -> str:
        page = self.client.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match[1]


def make_person(org: Org) -> str:
    email = f"nguoi{next(_emails)}@tnld.test"
    with session_factory()() as session:
        create_user(
            session,
            actor=None,
            organisation_id=uuid.UUID(org.id),
            email=email,
            full_name="Nguyễn Thị Mai",
            password=PASSWORD,
        )
    return email


def login_page_token(client: TestClient) -> str:
    page = client.get("/dang-nhap")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match[1]


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    token = login_page_token(client)
    response = client.post(
        "/dang-nhap",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return int(response.status_code)


class People:
    def __init__(self, orgs: OrgFactory) -> None:
        self.orgs = orgs
        self._clients: list[TestClient] = []

    def of(self, org: Org) -> WebUser:
        client = TestClient(create_app(), raise_server_exceptions=False)
        client.__enter__()
        self._clients.append(client)
        email = make_person(org)
        assert log_in(client, email) == 303
        return WebUser(client=client, org=org, email=email)

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)


@pytest.fixture
def people(orgs: OrgFactory) -> Iterator[People]:
    found = People(orgs)
    yield found
    found.close()


@pytest.fixture
def anonymous() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
