"""The operator admin's Sellers and People pages (management/admin/sellers.py, people.py).
POSTs are sent empty (their CSRF token only): a form missing its fields answers 400, a
button whose change the rules refuse (approving an active seller) 422."""

from tests.management.access import Route

ROUTES = [
    Route("admin.sellers", "GET", "/admin/sellers", "operator"),
    Route("admin.seller_detail", "GET", "/admin/sellers/{seller}", "operator"),
    Route("admin.seller_approve", "POST", "/admin/sellers/{seller}/approve", "operator"),
    Route("admin.seller_suspend", "POST", "/admin/sellers/{seller}/suspend", "operator"),
    Route("admin.seller_reinstate", "POST", "/admin/sellers/{seller}/reinstate", "operator"),
    Route("admin.people", "GET", "/admin/people", "operator"),
    Route("admin.people_detail", "GET", "/admin/people/{person}", "operator"),
    Route("admin.people_deactivate", "POST", "/admin/people/{person}/deactivate", "operator"),
    Route("admin.people_reactivate", "POST", "/admin/people/{person}/reactivate", "operator"),
    Route("admin.people_email_add", "POST", "/admin/people/{person}/emails", "operator"),
    Route("admin.people_email_verify", "POST", "/admin/people/{person}/emails/verify",
          "operator"),
    Route("admin.people_email_remove", "POST", "/admin/people/{person}/emails/remove",
          "operator"),
    Route("admin.people_role_grant", "POST", "/admin/people/{person}/roles", "operator"),
    Route("admin.people_role_revoke", "POST", "/admin/people/{person}/roles/revoke",
          "operator"),
    Route("admin.people_operator_grant", "POST", "/admin/people/{person}/operator/grant",
          "operator"),
    Route("admin.people_operator_revoke", "POST", "/admin/people/{person}/operator/revoke",
          "operator"),
]
