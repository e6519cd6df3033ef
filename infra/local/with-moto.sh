#!/usr/bin/env bash
# Runs a command with a fresh moto server on a free loopback port, pointed to by
# AWS_ENDPOINT_URL, and stops the server afterwards. Usage: with-moto.sh CMD [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
[ -x "$venv/bin/moto_server" ] || { echo "moto is not installed: run 'make venv'" >&2; exit 2; }
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log="$root/target/moto-$port.log"
mkdir -p "$root/target"
# moto with its DynamoDB transactions made atomic (see moto_serve.py).
"$venv/bin/python" "$root/infra/local/moto_serve.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
  kill -0 $moto_pid 2>/dev/null || { echo "moto failed to start; see $log" >&2; exit 1; }
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://localhost:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true NO_PROXY="localhost,127.0.0.1${NO_PROXY:+,$NO_PROXY}"
echo "moto server on $AWS_ENDPOINT_URL (log: $log)" >&2
"$@"
