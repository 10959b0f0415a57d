from tests.management.access import Route

D = "developers"
BASE = "/console/{seller}/developers"

ROUTES = [
    Route("console.developers", "GET", BASE, D),
    Route("console.developers_key_create", "POST", f"{BASE}/keys", D, (("name", "CI"),)),
    Route("console.developers_key_revoke", "GET", f"{BASE}/keys/{{api_key}}/revoke", D),
    Route("console.developers_key_revoke", "POST", f"{BASE}/keys/{{api_key}}/revoke", D),
    Route("console.developers_secret_rotate", "POST", f"{BASE}/signing-secrets", D),
    Route("console.developers_secrets_retire", "GET", f"{BASE}/signing-secrets/retire", D),
    Route("console.developers_secrets_retire", "POST", f"{BASE}/signing-secrets/retire", D),
    Route("console.developers_origin_add", "POST", f"{BASE}/origins", D),
    Route("console.developers_origin_remove", "GET",
          f"{BASE}/origins/remove?origin=http://localhost:5999", D),
    Route("console.developers_origin_remove", "POST", f"{BASE}/origins/remove", D),
    Route("console.developers_endpoint_add", "POST", f"{BASE}/endpoints", D),
    Route("console.developers_endpoint", "GET", f"{BASE}/endpoints/{{webhook_endpoint}}", D),
    Route("console.developers_endpoint_disable", "GET",
          f"{BASE}/endpoints/{{webhook_endpoint}}/disable", D),
    Route("console.developers_endpoint_disable", "POST",
          f"{BASE}/endpoints/{{webhook_endpoint}}/disable", D),
    Route("console.developers_endpoint_enable", "POST",
          f"{BASE}/endpoints/{{webhook_endpoint}}/enable", D),
    Route("console.developers_endpoint_rotate", "GET",
          f"{BASE}/endpoints/{{webhook_endpoint}}/rotate-secret", D),
    Route("console.developers_endpoint_rotate", "POST",
          f"{BASE}/endpoints/{{webhook_endpoint}}/rotate-secret", D),
    Route("console.developers_endpoint_test", "POST",
          f"{BASE}/endpoints/{{webhook_endpoint}}/test", D),
    Route("console.developers_delivery", "GET", f"{BASE}/deliveries/{{delivery}}", D),
    Route("console.developers_delivery_replay", "POST",
          f"{BASE}/deliveries/{{delivery}}/replay", D),
]
