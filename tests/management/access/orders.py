from tests.management.access import Route

ROUTES = [
    Route("console.home", "GET", "/console/{seller}/", "view"),
    Route("console.home", "GET", "/console/{seller}/?days=90", "view"),
    Route("console.orders", "GET", "/console/{seller}/orders", "view"),
    Route("console.orders", "GET",
          "/console/{seller}/orders?status=paid&email=customer@example.com", "view"),
    Route("console.orders_csv", "GET", "/console/{seller}/orders.csv", "view"),
]
