#!/usr/bin/env bash
# Sets up and runs the product locally: builds the embed library, then runs localstripe
# (a fake Stripe), the Buyflow service, its task worker and the demo selling site, on SQLite
# in instance/. Ctrl-C stops them all.
#   SERVICE_PORT (5000), SHOP_PORT (5001), STRIPE_PORT (8420): where each listens.
#   LOCALSTRIPE_STORE (instance/localstripe.pickle): localstripe's kept store.
#   The service's own files move with its settings (README, "Configuration").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_venv dev
build_embed

SERVICE_PORT=${SERVICE_PORT:-5000}
SHOP_PORT=${SHOP_PORT:-5001}
STRIPE_PORT=${STRIPE_PORT:-8420}
LOCALSTRIPE_STORE=${LOCALSTRIPE_STORE:-instance/localstripe.pickle}
SERVICE_URL="http://127.0.0.1:$SERVICE_PORT"
# Another *site* than the service (localhost vs 127.0.0.1), as a real shop would be.
SHOP_URL="http://localhost:$SHOP_PORT"

mkdir -p instance
# The demo seller's secrets are made once and kept in the instance folder (not committed).
if [ ! -f instance/demo.env ] || ! grep -q DEMO_WEBHOOK_SECRET instance/demo.env; then
  {
    echo "DEMO_API_KEY=sk_demo_$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')"
    echo "DEMO_SIGNING_SECRET=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "STRIPE_WEBHOOK_SECRET=whsec_$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')"
    echo "DEMO_WEBHOOK_SECRET=$(.venv/bin/python -c 'from buyflow.models import WebhookEndpoint; print(WebhookEndpoint.new_secret())')"
  } > instance/demo.env
  chmod 600 instance/demo.env
fi
set -a
source instance/demo.env
BUYFLOW_STRIPE_SECRET_KEY=sk_test_localstripe
BUYFLOW_STRIPE_PUBLISHABLE_KEY=pk_test_localstripe
BUYFLOW_STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT"
BUYFLOW_STRIPE_JS_URL="http://127.0.0.1:$STRIPE_PORT/js.stripe.com/v3/"
BUYFLOW_STRIPE_WEBHOOK_SECRET=$STRIPE_WEBHOOK_SECRET
BUYFLOW_URL=$SERVICE_URL
BUYFLOW_PUBLIC_URL=$SERVICE_URL
# The demo shop's webhook endpoint is on localhost: allowed in development only.
BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS=true
DEMO_SELLER_ID=sel_demo
DEMO_PRODUCT_ID=prod_demo_coffee
set +a

FLASK=".venv/bin/flask --app wsgi"
quietly $FLASK db upgrade
quietly $FLASK demo seed --origin "$SHOP_URL"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() {
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import socket,sys; socket.create_connection(('$1', $2), 0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$3 did not start on $1:$2" >&2
  exit 1
}

for port in "$STRIPE_PORT" "$SERVICE_PORT" "$SHOP_PORT"; do
  if .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    echo "Port $port is already in use: stop what runs there, or set STRIPE_PORT, SERVICE_PORT, SHOP_PORT." >&2
    exit 1
  fi
done

# Its store is kept beside the SQLite database, whose customers and charges it holds.
mkdir -p "$(dirname "$LOCALSTRIPE_STORE")"
.venv/bin/python -m buyflow.dev.localstripe_server --port "$STRIPE_PORT" \
  --keep-in "$LOCALSTRIPE_STORE" >instance/localstripe.log 2>&1 &
pids+=($!)
wait_for 127.0.0.1 "$STRIPE_PORT" localstripe
# localstripe sends Stripe's signed webhooks to the service, as Stripe would.
.venv/bin/python - <<PY
import urllib.parse, urllib.request
data = urllib.parse.urlencode({"url": "$SERVICE_URL/webhooks/stripe",
                               "secret": "$STRIPE_WEBHOOK_SECRET"}).encode()
urllib.request.urlopen("http://127.0.0.1:$STRIPE_PORT/_config/webhooks/buyflow", data)
PY

# The production server (buyflow/serve.py: gunicorn, sync workers), two workers: the
# demo runs what production runs. Its access log goes to instance/service.log.
$FLASK serve --bind "127.0.0.1:$SERVICE_PORT" --workers 2 >instance/service.log 2>&1 &
pids+=($!)
wait_for 127.0.0.1 "$SERVICE_PORT" "the Buyflow service"

# The task queue's worker delivers sellers' webhooks and receipt emails, and retries them.
$FLASK worker >instance/worker.log 2>&1 &
pids+=($!)

.venv/bin/python -m examples.demo_shop.app --host localhost --port "$SHOP_PORT" &
pids+=($!)
wait_for localhost "$SHOP_PORT" "the demo shop"

cat <<MSG

  Buyflow is running.
    Demo shop (buy here):  $SHOP_URL/
    Buyflow service:       $SERVICE_URL/
    localstripe (fake Stripe): http://127.0.0.1:$STRIPE_PORT/
    Your purchases:        $SERVICE_URL/account/  (sign-in emails land in ${BUYFLOW_MAIL_FILE_PATH:-instance/mail}/)
    Seller console:        $SERVICE_URL/console/  (sign in as owner@northwind.example, the
                           demo shop's owner and this service's operator: $SERVICE_URL/admin/)
  Test cards: 4242 4242 4242 4242 (succeeds), 4000 0025 0000 3155 (3-D Secure),
              4000 0000 0000 0341 (declined). Any future expiry (year 34 or 2034), any CVC.
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
