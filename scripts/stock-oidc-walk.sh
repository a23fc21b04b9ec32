#!/usr/bin/env bash
# The README's walk, end to end, with a stock OpenID Connect application: oauth2-proxy (built
# with `go install`, configured only with magd's issuer, a client id and its secret) in front of a
# static page. magd --demo in a temporary folder; the organisation administrator accepts the terms
# and approves the demo user and the user's second account through the API, as MAG Desktop does;
# each account's launch link is opened in headless Chromium (trusting magd's CA through an NSS
# database), which must end at oauth2-proxy's /oauth2/userinfo signed in as that account.
#   scripts/stock-oidc-walk.sh            (needs Go, chromium, certutil, python3; network for go install)
set -euo pipefail

work=$(mktemp -d /tmp/stock-oidc-walk.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cd "$(dirname "$0")/.."

GOBIN="$work/bin" go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6
go build -o "$work/bin/magd" ./cmd/magd
magd="$work/bin/magd" data="$work/data" port=$((20000 + RANDOM % 20000)) proxy=$((40000 + RANDOM % 20000))
"$magd" serve --data "$data" --addr "127.0.0.1:$port" --demo >"$work/magd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "magd is running" "$work/magd.log" && break; sleep 0.2; done
grep -q "magd is running" "$work/magd.log" || { cat "$work/magd.log"; exit 1; }

# Step 1 of the walk: register the application; the secret is printed once.
echo "Team Wiki terms." >"$work/terms.txt"
"$magd" admin --data "$data" app add --id wiki --name "Team Wiki" --terms "$work/terms.txt" \
  --url "http://127.0.0.1:$proxy/oauth2/start?rd=%2Foauth2%2Fuserinfo" \
  --protocol oidc --redirect-uri "http://127.0.0.1:$proxy/oauth2/callback" >"$work/reg.txt"
org=$(grep -o 'org_[0-9a-f]*' "$work/magd.log" | head -1)
"$magd" admin --data "$data" app subscribe --org "$org" --app wiki >/dev/null
secret=$(sed -n 's/^client_secret: //p' "$work/reg.txt")
issuer=$(sed -n 's/^issuer: //p' "$work/reg.txt")

# Step 2: the stock application, configured with the issuer, the client id and the secret.
"$work/bin/oauth2-proxy" --provider=oidc --oidc-issuer-url="$issuer" --client-id=wiki --client-secret="$secret" \
  --redirect-url="http://127.0.0.1:$proxy/oauth2/callback" --provider-ca-file="$data/ca/ca.pem" \
  --email-domain='*' --cookie-secret="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" --cookie-secure=false \
  --upstream=static://200 --http-address="127.0.0.1:$proxy" --skip-provider-button=true >"$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "OAuthProxy configured" "$work/proxy.log" && break; sleep 0.2; done

# Steps 3 and 4: terms, access and Open Application for two accounts, as MAG Desktop asks for them.
python3 - "$work" "$port" <<'EOF' >"$work/launch.txt"
import json, re, ssl, sys, urllib.request
work, port = sys.argv[1], sys.argv[2]
base, ctx = f"https://127.0.0.1:{port}", ssl.create_default_context(cafile=f"{work}/data/ca/ca.pem")
def call(method, path, token=None, body=None):
    r = urllib.request.Request(base + path, method=method, headers={"Content-Type": "application/json"},
                               data=None if body is None else json.dumps(body).encode())
    if token:
        r.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(r, context=ctx) as f:
        return json.loads(f.read() or b"null")
log = open(f"{work}/magd.log").read()
org = re.search(r"(org_[0-9a-f]+)", log).group(1)
admin = call("POST", "/v1/auth/login", body=dict(zip(("user_id", "password"), re.search(r"org admin\s+user id (\S+)\s+password (\S+)", log).groups())))["session_token"]
terms = call("GET", f"/v1/orgs/{org}/applications/wiki/terms", admin)
call("POST", f"/v1/orgs/{org}/applications/wiki/terms/acceptances", admin, {"terms_version_id": terms["terms_version_id"]})
for pattern in (r"\n  user\s+user id (\S+)\s+password (\S+)", r"second account\s+user id (\S+)\s+password (\S+)"):
    user, pw = re.search(pattern, log).groups()
    tok = call("POST", "/v1/auth/login", body={"user_id": user, "password": pw})["session_token"]
    req = call("POST", "/v1/me/applications/wiki/access-requests", tok, {})
    call("POST", f"/v1/orgs/{org}/access-requests/{req['id']}/decision", admin, {"decision": "approve"})
    print(user, call("POST", "/v1/me/applications/wiki/launch", tok, {})["launch_url"])
EOF

home="$work/home"
mkdir -p "$home/.pki/nssdb"
certutil -d "sql:$home/.pki/nssdb" -N --empty-password
certutil -d "sql:$home/.pki/nssdb" -A -t C,, -n magd -i "$data/ca/ca.pem"
while read -r user link; do
  page=$(HOME="$home" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$home/profile" \
    --dump-dom "$link" 2>/dev/null)
  if ! grep -q "\"user\":\"$user\"" <<<"$page"; then
    echo "stock-oidc-walk: after opening $user's launch link the application shows:"; echo "$page"; exit 1
  fi
  echo "stock-oidc-walk: oauth2-proxy is signed in as $user"
done <"$work/launch.txt"
