import pytest
from django.test import RequestFactory

from hrp_site.client_address import client_address


@pytest.fixture
def proxies(settings):
    def use(count: int) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return use


def address(forwarded_for: str | None = None, remote_addr: str = "192.0.2.1") -> str | None:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    request = RequestFactory().get("/", headers=headers, REMOTE_ADDR=remote_addr)
    return client_address(request)


def test_no_proxy_ignores_the_header(proxies):
    proxies(0)

    assert address("203.0.113.7") == "192.0.2.1"


def test_one_proxy_takes_the_entry_it_appended(proxies):
    proxies(1)

    assert address("10.0.0.1, 203.0.113.7") == "203.0.113.7"


def test_two_proxies_take_the_second_entry_from_the_right(proxies):
    proxies(2)

    assert address("10.0.0.1,203.0.113.7, 198.51.100.2") == "203.0.113.7"


def test_more_proxies_than_entries_take_the_first(proxies):
    proxies(3)

    assert address("203.0.113.7, 198.51.100.2") == "203.0.113.7"


def test_no_header_is_the_connection_address(proxies):
    proxies(1)

    assert address(None) == "192.0.2.1"


@pytest.mark.parametrize(
    "entry",
    ["not-an-address", "", "203.0.113.7:8080", "fe80::1%eth0", "999.1.1.1", "unknown"],
)
def test_an_entry_that_is_no_address_falls_back_to_the_connection_address(proxies, entry):
    proxies(1)

    assert address(f"10.0.0.1, {entry}") == "192.0.2.1"


def test_an_ipv6_entry_is_written_the_one_way(proxies):
    proxies(1)

    assert address("2001:DB8:0:0::1") == "2001:db8::1"


def test_a_connection_address_that_is_no_address_is_none(proxies):
    proxies(0)

    assert address(None, remote_addr="unix-socket") is None


def test_make_run_ignores_the_header_as_nothing_is_in_front_of_runserver(settings):
    makefile = (settings.BASE_DIR / "Makefile").read_text()

    runserver = [line for line in makefile.splitlines() if "manage.py runserver" in line]

    assert len(runserver) == 1
    assert "DJANGO_API_NUM_PROXIES=0 " in runserver[0]
