from tests.management.access import Route

ROUTES = [
    Route("console.index", "GET", "/console/?all=1", "person"),
    Route("admin.index", "GET", "/admin/", "operator"),
]
