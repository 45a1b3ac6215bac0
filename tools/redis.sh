#!/usr/bin/env bash
# A redis-server (Debian's package) on 127.0.0.1 for the tests.
#   tools/redis.sh start DIR [PORT]   start a server with its data in DIR; prints host:port once
#                                     it answers PING; its pid is in DIR/redis.pid
#   tools/redis.sh stop DIR           stop the server started in DIR
# With REDIS_PASSWORD set the server requires it (AUTH), as a production one would. With
# REDIS_TLS_DIR (server.crt, server.key, ca.crt) it speaks only TLS and wants client certificates.
# Idempotent: start in a DIR whose server still runs prints its address again.
set -euo pipefail

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }

start() {
  local dir="$1" port="${2:-}"
  command -v redis-server >/dev/null || { echo "redis.sh: redis-server is not installed; run tools/deps.sh" >&2; exit 1; }
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    cat "$dir/address"
    return 0
  fi
  # A restart in the same DIR keeps its port: clients reconnect to the address they knew.
  if [ -z "$port" ] && [ -f "$dir/address" ]; then
    port="$(cut -d: -f2 <"$dir/address")"
  fi
  [ -n "$port" ] || port=$(free_port)
  local tls="${REDIS_TLS_DIR:-}" listen=(--port "$port") cli=()
  if [ -n "$tls" ]; then
    listen=(--port 0 --tls-port "$port" --tls-cert-file "$tls/server.crt" --tls-key-file "$tls/server.key"
      --tls-ca-cert-file "$tls/ca.crt" --tls-auth-clients yes)
    cli=(--tls --cacert "$tls/ca.crt" --cert "$tls/client.crt" --key "$tls/client.key")
  fi
  redis-server --bind 127.0.0.1 "${listen[@]}" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly yes \
    ${REDIS_PASSWORD:+--requirepass "$REDIS_PASSWORD"} >/dev/null
  for _ in $(seq 1 100); do
    if REDISCLI_AUTH="${REDIS_PASSWORD:-}" redis-cli "${cli[@]}" -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      echo "127.0.0.1:$port" | tee "$dir/address"
      return 0
    fi
    sleep 0.1
  done
  echo "redis.sh: redis-server did not answer on 127.0.0.1:$port; see $dir/redis.log" >&2
  exit 1
}

stop() {
  local dir="$1"
  [ -f "$dir/redis.pid" ] || return 0
  local pid
  pid="$(cat "$dir/redis.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/redis.pid"
}

case "${1:-}" in
  start) start "${2:?DIR}" "${3:-}" ;;
  stop) stop "${2:?DIR}" ;;
  *) echo "usage: tools/redis.sh start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
