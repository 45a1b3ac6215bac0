#!/usr/bin/env bash
# A single-node Apache Kafka broker in KRaft mode on 127.0.0.1, from the jars on Maven Central.
#   tools/kafka.sh fetch              copy the broker's jars into .cache/kafka/libs (once)
#   tools/kafka.sh start DIR [PORT]   format DIR and start a broker there; prints host:port once
#                                     it accepts clients; the broker's pid is in DIR/broker.pid
#   tools/kafka.sh stop DIR           stop the broker started in DIR
# A secured client listener, for tests of the clients' TLS and SASL settings:
#   KAFKA_TLS_DIR=D                   TLS with D/server.crt, D/server.key (PKCS#8) and D/ca.crt
#   KAFKA_TLS_CLIENT_AUTH=required    and require a client certificate signed by D/ca.crt
#   KAFKA_SASL_USERS=u:p[,u:p]        SASL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for these users
# Idempotent: fetch does nothing when the jars are there; start reuses DIR's data if formatted.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
libs="$root/.cache/kafka/libs"

fetch() {
  [ -f "$libs/.complete" ] && return 0
  command -v java >/dev/null || { echo "kafka.sh: java is needed to run the broker" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is needed to fetch the broker's jars" >&2; exit 1; }
  echo "kafka.sh: fetching the Kafka broker's jars from Maven Central" >&2
  rm -rf "$libs"
  mvn -q -B -f "$root/tools/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }

start() {
  local dir="$1" port="${2:-}" saved=""
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local controller="" internal=""
  # A restart in the same DIR keeps its ports: clients reconnect to the address they knew.
  if [ -f "$dir/ports" ]; then
    read -r saved controller internal <"$dir/ports"
    [ -n "$port" ] || port=$saved
  fi
  [ -n "$port" ] || port=$(free_port)
  [ -n "$controller" ] || controller=$(free_port)
  [ -n "$internal" ] || internal=$(free_port)
  echo "$port $controller $internal" >"$dir/ports"
  local tls="${KAFKA_TLS_DIR:-}" users="${KAFKA_SASL_USERS:-}" protocol=PLAINTEXT scram=()
  if [ -n "$tls" ] && [ -n "$users" ]; then protocol=SASL_SSL
  elif [ -n "$tls" ]; then protocol=SSL
  elif [ -n "$users" ]; then protocol=SASL_PLAINTEXT
  fi
  # The broker talks to itself on a plaintext listener of its own, so only clients see security.
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=CLIENT://127.0.0.1:$port,INTERNAL://127.0.0.1:$internal,CONTROLLER://127.0.0.1:$controller
advertised.listeners=CLIENT://127.0.0.1:$port,INTERNAL://127.0.0.1:$internal
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:$protocol,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
log.dirs=$dir/data
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  if [ -n "$tls" ]; then
    cat "$tls/server.key" "$tls/server.crt" >"$dir/keystore.pem"
    cat >>"$dir/server.properties" <<PROPS
listener.name.client.ssl.keystore.type=PEM
listener.name.client.ssl.keystore.location=$dir/keystore.pem
listener.name.client.ssl.truststore.type=PEM
listener.name.client.ssl.truststore.location=$tls/ca.crt
listener.name.client.ssl.client.auth=${KAFKA_TLS_CLIENT_AUTH:-none}
PROPS
  fi
  if [ -n "$users" ]; then
    local plain="" u
    IFS=',' read -ra pairs <<<"$users"
    for u in "${pairs[@]}"; do
      plain="$plain user_${u%%:*}=\"${u#*:}\""
      scram+=(--add-scram "SCRAM-SHA-256=[name=${u%%:*},password=${u#*:}]" --add-scram "SCRAM-SHA-512=[name=${u%%:*},password=${u#*:}]")
    done
    cat >>"$dir/server.properties" <<PROPS
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain;
listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
  fi
  local java=(java -Xms256m -Xmx512m -XX:+UseG1GC "-Dlog4j.configuration=file:$root/tools/kafka/log4j.properties" -cp "$libs/*")
  if [ ! -f "$dir/data/meta.properties" ]; then
    "${java[@]}" kafka.tools.StorageTool format -t "$("${java[@]}" kafka.tools.StorageTool random-uuid)" \
      -c "$dir/server.properties" "${scram[@]}" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
  fi
  nohup "${java[@]}" kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  echo $! >"$dir/broker.pid"
  for _ in $(seq 1 120); do
    if grep -q "Kafka Server started" "$dir/broker.log"; then
      echo "127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; then
      echo "kafka.sh: the broker exited:" >&2
      tail -20 "$dir/broker.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not start within 60 s:" >&2
  tail -20 "$dir/broker.log" >&2
  exit 1
}

stop() {
  local pidfile="$1/broker.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:?usage: kafka.sh start DIR [PORT]}" "${3:-}" ;;
  stop) stop "${2:?usage: kafka.sh stop DIR}" ;;
  *) echo "usage: kafka.sh fetch | start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
