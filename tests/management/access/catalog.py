"""The console's products, customers and settings."""

from tests.management.access import Route

ROUTES = [
    Route("console.products", "GET", "/console/{seller}/products", "view"),
    Route("console.product_new", "GET", "/console/{seller}/products/new", "products"),
    Route("console.product_new", "POST", "/console/{seller}/products/new", "products"),
    Route("console.product_edit", "GET", "/console/{seller}/products/{product}", "products"),
    Route("console.product_edit", "POST", "/console/{seller}/products/{product}", "products"),
    Route("console.product_archive", "POST", "/console/{seller}/products/{product}/archive",
          "products"),
    Route("console.product_unarchive", "POST",
          "/console/{seller}/products/{product}/unarchive", "products"),
    Route("console.product_delete", "GET", "/console/{seller}/products/{product}/delete",
          "products"),
    Route("console.product_delete", "POST", "/console/{seller}/products/{product}/delete",
          "products"),
]
ROUTES += [
    Route("console.customers", "GET", "/console/{seller}/customers", "view"),
    Route("console.customer_detail", "GET", "/console/{seller}/customers/{customer}", "view"),
    Route("console.customer_credit", "POST",
          "/console/{seller}/customers/{customer}/credit/grant", "customers"),
    Route("console.customer_credit", "POST",
          "/console/{seller}/customers/{customer}/credit/debit", "customers",
          data=(("debit-unit", "EUR"), ("debit-amount", "1"), ("debit-reason", "test"),
                ("debit-key", "k" * 22), ("debit-confirmed", "yes"))),
]
ROUTES += [
    Route("console.settings", "GET", "/console/{seller}/settings", "settings"),
    Route("console.settings_general", "POST", "/console/{seller}/settings/general",
          "settings"),
    Route("console.settings_brand", "POST", "/console/{seller}/settings/brand", "settings"),
    Route("console.settings_logo", "POST", "/console/{seller}/settings/logo", "settings"),
    Route("console.settings_logo_remove", "POST", "/console/{seller}/settings/logo/remove",
          "settings"),
    Route("console.settings_support", "POST", "/console/{seller}/settings/support",
          "settings"),
    Route("console.settings_payments", "POST", "/console/{seller}/settings/payments",
          "settings"),
]
