#!/usr/bin/env bash
# Regenerates libs/proto/src/gen from proto/ with ts-proto. Needs protoc (Debian: protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
rm -rf libs/proto/src/gen && mkdir -p libs/proto/src/gen
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=libs/proto/src/gen \
  --ts_proto_opt=outputServices=grpc-js,env=both,esModuleInterop=true,forceLong=number,importSuffix=.js,useOptionals=none,oneof=unions-value,fileSuffix=.generated \
  -I proto proto/pharos/v1/*.proto
