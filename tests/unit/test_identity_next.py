"""Where a sign-in may send the person next: only a path on this site. Browsers drop tabs
and line breaks from URLs and read a backslash as a slash, so `/\t/evil.example` and
`/\\evil.example` are other sites; each hostile value below must be refused."""

from __future__ import annotations

import pytest

from p2pbank.identity.rules import same_site_path

HOSTILE = [
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\t/evil.example",
    "/%09/evil.example".replace("%09", "\t"),
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "http://evil.example",
    "https://evil.example/dashboard",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "dashboard",
    " /dashboard",
    "\t/dashboard",
    "/dash\x00board",
    "/dash\x7fboard",
    "/dashboard\r\nSet-Cookie: a=b",
    "/\u3000/evil.example",
    "/\u2028/evil.example",
    "/dashboard\u0085",
    "",
    "/" + "a" * 2100,
]

SAFE = [
    "/dashboard",
    "/",
    "/campaigns?page=2",
    "/loans/7#schedule",
    "/campaigns/3/pledge?tier=2&x=%2F%2Fevil",
    "/search?q=a%09b",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_values_are_refused(target):
    assert same_site_path(target) is None


@pytest.mark.parametrize("target", SAFE)
def test_paths_on_this_site_are_kept(target):
    assert same_site_path(target) == target


def test_no_value_is_no_path():
    assert same_site_path(None) is None
