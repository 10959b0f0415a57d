"""What each seller role may do: the one place it is decided (the console checks it on
every route)."""

from __future__ import annotations

from enum import StrEnum

from ..models.people import SellerRole


class Permission(StrEnum):
    VIEW = "view"  # the home page, orders, refund requests, products, customers: reading
    ORDERS = "orders"  # refund an order, record an offline payment
    REFUND_REQUESTS = "refund_requests"  # approve, decline
    CUSTOMERS = "customers"  # grant and debit credit
    PRODUCTS = "products"  # create, edit, archive products and prices
    DEVELOPERS = "developers"  # API keys, signing secrets, origins, webhooks: any access
    SETTINGS = "settings"  # locale, currencies, brand, support details: any access
    MEMBERS = "members"  # the team: see it, invite, change roles, remove
    OWNERSHIP = "ownership"  # make or unmake owners, transfer the ownership


_SUPPORT = {Permission.VIEW, Permission.ORDERS, Permission.REFUND_REQUESTS,
            Permission.CUSTOMERS}
_ADMIN = _SUPPORT | {Permission.PRODUCTS, Permission.DEVELOPERS, Permission.SETTINGS,
                     Permission.MEMBERS}

ROLE_PERMISSIONS: dict[SellerRole, frozenset[Permission]] = {
    SellerRole.OWNER: frozenset(Permission),
    SellerRole.ADMIN: frozenset(_ADMIN),
    SellerRole.SUPPORT: frozenset(_SUPPORT),
    SellerRole.VIEWER: frozenset({Permission.VIEW}),
}


def role_allows(role: str, permission: Permission) -> bool:
    """Whether a member with ``role`` may do what ``permission`` covers."""
    return permission in ROLE_PERMISSIONS[SellerRole(role)]
