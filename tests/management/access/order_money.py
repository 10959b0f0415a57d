"""An order's page, its refund and offline payment forms, the refund requests' queue, a
request's page and its answers."""

from tests.management.access import Route

ROUTES = [
    Route("console.order_detail", "GET", "/console/{seller}/orders/{order}", "view"),
    Route("console.order_refund", "POST", "/console/{seller}/orders/{order}/refund",
          "orders"),
    Route("console.order_offline_payment", "POST",
          "/console/{seller}/orders/{order}/offline-payments", "orders"),
    Route("console.refund_requests", "GET", "/console/{seller}/refund-requests", "view"),
    Route("console.refund_request_detail", "GET",
          "/console/{seller}/refund-requests/{refund_request}", "view"),
    Route("console.refund_request_approve", "POST",
          "/console/{seller}/refund-requests/{refund_request}/approve", "refund_requests"),
    Route("console.refund_request_decline", "POST",
          "/console/{seller}/refund-requests/{refund_request}/decline", "refund_requests"),
]
