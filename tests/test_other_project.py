"""The other_project fixture is what the "another project" tests take it for."""

import pytest

from tests.conftest import ROLES


@pytest.mark.parametrize("role", ROLES)
def test_demo_members_do_not_see_the_other_project(client, auth, demo, other_project, role):
    auth.login(role)
    assert client.get(f"/projects/{other_project.id}").status_code == 404
    assert client.get(f"/projects/{demo}").status_code == 200


@pytest.mark.parametrize("member", ["other-manager", "other-officer"])
def test_its_members_see_it_and_not_the_demo(client, auth, demo, other_project, member):
    auth.login(member)
    page = client.get(f"/projects/{other_project.id}/activities").get_data(as_text=True)
    assert "Another activity" in page
    assert client.get(f"/projects/{other_project.id}/indicators").status_code == 200
    assert client.get(f"/projects/{other_project.id}/budget").status_code == 200
    assert client.get(f"/projects/{demo}").status_code == 404


def test_admins_see_both(client, auth, demo, other_project):
    auth.login("admin")
    assert client.get(f"/projects/{other_project.id}").status_code == 200
    assert client.get(f"/projects/{demo}").status_code == 200
