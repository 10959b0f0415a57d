"""What the console calls roles and permissions, in the person's language."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from buyflow.models.people import SellerRole

ROLE_LABELS = {
    SellerRole.OWNER: _l("Owner"),
    SellerRole.ADMIN: _l("Admin"),
    # A context of its own: the receipts' "Support" is where to ask for help, and some
    # languages say the two differently.
    SellerRole.SUPPORT: lazy_pgettext("seller role", "Support"),
    SellerRole.VIEWER: _l("Viewer"),
}

ROLE_DESCRIPTIONS = {
    SellerRole.OWNER: _l("Everything, including the team's owners."),
    SellerRole.ADMIN: _l("Everything but making or removing owners."),
    SellerRole.SUPPORT: _l("Orders, refunds, refund requests and customers; no keys, settings or team."),
    SellerRole.VIEWER: _l("Reads everything but keys, settings and the team; changes nothing."),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS[SellerRole(role)])
