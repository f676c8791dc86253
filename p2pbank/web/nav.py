"""Where each domain's pages hook into the navigation and the dashboard.

Each page module calls `nav_item(...)` / `dashboard_panel(...)` at import; the base
template shows the items the signed-in person's roles allow, grouped by what the person
does (Lend, Borrow, Campaigns, Wallet, Audit, Admin) plus a person menu, so the top bar
stays one row at 1280 px however many roles someone holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import lazy_gettext

from p2pbank.permissions import Permission, may


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    visible: Callable[[object], bool]
    order: int
    group: str


# The top bar's menus in order; "person" is the menu under the person's own name.
GROUPS = (
    ("lend", lazy_gettext("Lend")),
    ("borrow", lazy_gettext("Borrow")),
    ("campaigns", lazy_gettext("Campaigns")),
    ("wallet", lazy_gettext("Wallet")),
    ("audit", lazy_gettext("Audit")),
    ("admin", lazy_gettext("Admin")),
)


@dataclass(frozen=True)
class Panel:
    template: str
    visible: Callable[[object], bool]
    order: int


_NAV: list[NavItem] = []
_PANELS: list[Panel] = []


def everyone(_user: object) -> bool:
    return True


def has_role(*roles: str) -> Callable[[object], bool]:
    return lambda user: any(user.has_role(r) for r in roles)


def has_permission(permission: Permission) -> Callable[[object], bool]:
    """Show the item to whoever may use its page (the page checks the same permission)."""
    return lambda user: may(user.role_names, permission)


def nav_item(
    label: str, endpoint: str, visible=everyone, order: int = 50, group: str = "person"
) -> None:
    if group != "person" and group not in dict(GROUPS):
        raise ValueError(f"unknown navigation group {group!r}")
    if all(item.endpoint != endpoint for item in _NAV):
        _NAV.append(NavItem(lazy_gettext(label), endpoint, visible, order, group))


def dashboard_panel(template: str, visible=everyone, order: int = 50) -> None:
    if all(panel.template != template for panel in _PANELS):
        _PANELS.append(Panel(template, visible, order))


def register_nav(app: Flask) -> None:
    @app.context_processor
    def _nav():
        def nav_items(user, group: str | None = None):
            items = sorted(
                (i for i in _NAV if i.visible(user) and group in (None, i.group)),
                key=lambda i: i.order,
            )
            return [{"label": i.label, "url": url_for(i.endpoint)} for i in items]

        def nav_groups(user):
            """The menus this person has something in, each with its links."""
            menus = [
                {"key": key, "label": label, "items": nav_items(user, key)} for key, label in GROUPS
            ]
            return [menu for menu in menus if menu["items"]]

        def dashboard_panels(user):
            panels = sorted((p for p in _PANELS if p.visible(user)), key=lambda p: p.order)
            return [p.template for p in panels]

        return {
            "nav_items": nav_items,
            "nav_groups": nav_groups,
            "dashboard_panels": dashboard_panels,
        }
