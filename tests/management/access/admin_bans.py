from tests.management.access import Route

ROUTES = [
    Route("admin.bans", "GET", "/admin/bans", "operator"),
    Route("admin.bans_add", "POST", "/admin/bans/new", "operator"),
    Route("admin.bans_lift", "POST", "/admin/bans/{ban}/lift", "operator",
          data=(("reason", "appeal"),)),
    Route("admin.blacklist", "GET", "/admin/blacklist?check_email=a%40spam.test", "operator"),
    Route("admin.blacklist_add", "POST", "/admin/blacklist/new", "operator"),
    Route("admin.blacklist_remove", "POST", "/admin/blacklist/{pattern}/remove", "operator"),
    Route("admin.audit_log", "GET", "/admin/audit-log", "operator"),
]
