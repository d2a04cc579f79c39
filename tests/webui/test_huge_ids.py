"""Staff pages answer 404 for ids beyond the database's integer, as for any unknown id (not 500)."""

import pytest

HUGE = 2**31  # one more than the largest id a route accepts


@pytest.mark.parametrize("path", [
    f"/admin/applications/{HUGE}",
    f"/admin/definitions/dog-registration/{HUGE}",
    f"/diagram/applications/{HUGE}.json",
    f"/admin/applications/{10**30}",
])
def test_a_huge_id_is_an_unknown_id(staff, path):
    client = staff("admin", "admin")
    assert client.get(path).status_code == 404


def test_the_largest_accepted_id_reaches_the_view(staff):
    client = staff("admin", "admin")
    assert client.get(f"/admin/applications/{HUGE - 1}").status_code == 404
