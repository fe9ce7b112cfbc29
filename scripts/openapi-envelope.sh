#!/usr/bin/env bash
# Builds an open-API envelope the way a partner does: DES-ECB/PKCS#7 with the first 8 bytes of the
# channel's key, upper-case hex, and the current time in epoch milliseconds.
#   scripts/openapi-envelope.sh CHANNEL KEY 'PARAM-JSON'
# e.g.
#   scripts/openapi-envelope.sh hkl-test k3y-8byt '{"memberId":"L38E1ASJP00Q4"}' |
#     curl -s http://127.0.0.1:5080/openapi/v1/queryMncardByMember -H 'Content-Type: application/json' -d @-
# Needs only openssl (DES lives in OpenSSL 3's legacy provider) and coreutils.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 CHANNEL KEY 'PARAM-JSON'" >&2; exit 2; }
channel=$1 key=$2 json=$3
hex() { od -An -v -tx1 | tr -d ' \n'; }
key_hex=$(printf '%s' "$key" | head -c 8 | hex)
param=$(printf '%s' "$json" | openssl enc -des-ecb -provider legacy -provider default -K "$key_hex" -nosalt | hex | tr a-f A-F)
timestamp=$(date +%s%3N)
printf '{"channel":"%s","timestamp":"%s","param":"%s"}\n' "$channel" "$timestamp" "$param"
