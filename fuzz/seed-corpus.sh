#!/usr/bin/env bash
# Writes the seed corpus, fuzz/corpus/<target>/<name>: frames copied exactly from the tests
# (protocol/tests/golden.rs, protocol/src/decode.rs, server/src/session/tests.rs,
# server/tests/*.rs, client-core/tests/*.rs, server/src/broker/redis/envelope.rs and
# docs/cluster.md). The files are committed; rerun this after changing it.
# Multi-frame seeds hold one frame per line (see fuzz/src/lib.rs). Client frames carry the
# golden id, which the fuzzed sessions are given (server tests use other ids).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf corpus
ID=7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11

# seed TARGET NAME: stdin, without its final newline, becomes corpus/TARGET/NAME; "$ID" in
# the text becomes the golden id.
seed() {
  mkdir -p "corpus/$1"
  local text
  text=$(cat)
  printf '%s' "${text//\$ID/$ID}" >"corpus/$1/$2"
}

# --- client_frame: one frame each, client and server events, and rejected frames.
seed client_frame connect <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
EOF
seed client_frame subscribe <<'EOF'
{"type":"subscribe","payload":{"id":"$ID"}}
EOF
seed client_frame ping <<'EOF'
{"type":"ping","payload":{"id":"$ID"}}
EOF
seed client_frame disconnect <<'EOF'
{"type":"disconnect","payload":{"id":"$ID"}}
EOF
seed client_frame unsubscribe-news <<'EOF'
{"type":"unsubscribe","payload":{"id":"$ID","channel":"news"}}
EOF
seed client_frame publish-object <<'EOF'
{"type":"publish","payload":{"id":"$ID","channel":"news","data":{"headline":"Moon is full"},"exclude_self":true}}
EOF
seed client_frame publish-ref <<'EOF'
{"type":"publish","payload":{"id":"$ID","channel":"news","data":[1],"ref":9}}
EOF
seed client_frame publish-exact-numbers <<'EOF'
{"type":"publish","payload":{"id":"x","channel":"c","data":{"n":123456789012345678901234567890,"z":1.10,"a":2}}}
EOF
seed client_frame watch-ref <<'EOF'
{"type":"watch","payload":{"id":"$ID","channel":"news","ref":2}}
EOF
seed client_frame unwatch <<'EOF'
{"type":"unwatch","payload":{"id":"$ID","channel":"news"}}
EOF
seed client_frame subscribe-str-ref <<'EOF'
{"type":"subscribe","payload":{"id":"$ID","channel":"news","ref":"s-1"}}
EOF
seed client_frame unsubscribe-negative-ref <<'EOF'
{"type":"unsubscribe","payload":{"id":"$ID","ref":-3}}
EOF
seed client_frame ping-unknown-fields <<'EOF'
{"type":"ping","payload":{"id":"a","extra":1},"v":2}
EOF
seed client_frame bad-ref <<'EOF'
{"type":"ping","payload":{"id":"x","ref":[1]}}
EOF
seed client_frame unknown-type <<'EOF'
{"type":"shout","payload":{"ref":"r1"}}
EOF
seed client_frame not-json <<'EOF'
{not json
EOF
seed client_frame initial <<'EOF'
{"type":"initial","payload":{"id":"$ID"}}
EOF
seed client_frame message <<'EOF'
{"type":"message","payload":{"channel":"news","seq":42,"time":1795000000000,"data":{"headline":"Moon is full","n":[1,2]}}}
EOF
seed client_frame publish-confirmation <<'EOF'
{"type":"publish_confirmation","payload":{"channel":"news","seq":42,"ref":9}}
EOF
seed client_frame error <<'EOF'
{"type":"error","payload":{"code":"broker_unavailable","message":"Redis is unreachable","request":"publish","channel":"news","ref":9}}
EOF
seed client_frame channel-status <<'EOF'
{"type":"channel_status","payload":{"channel":"news","occupied":true}}
EOF
seed client_frame wisdom <<'EOF'
{"type":"wisdom_distribution","payload":{"message":"Howl together."}}
EOF

# --- server_session: sequences a connection sends (server/src/session/tests.rs and
# server/tests/*.rs).
seed server_session original-protocol <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{"type":"subscribe","payload":{"id":"$ID"}}
{"type":"ping","payload":{"id":"$ID"}}
{"type":"unsubscribe","payload":{"id":"$ID"}}
{"type":"disconnect","payload":{"id":"$ID"}}
EOF
seed server_session named-channels <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"news"}}
{"type":"unsubscribe","payload":{"id":"$ID","channel":"news"}}
EOF
seed server_session wrong-id-and-not-connected <<'EOF'
{"type":"connect","payload":{"id":"someone-else"}}
{"type":"subscribe","payload":{"id":"$ID"}}
{"type":"ping","payload":{"id":"$ID"}}
{"type":"connect","payload":{"id":"$ID"}}
{"type":"connect","payload":{"id":"$ID"}}
{"type":"ping","payload":{"id":"someone-else"}}
{"type":"subscribe","payload":{"channel":"a"}}
EOF
seed server_session bad-frames <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{oops
{"type":"shout","payload":{}}
{"type":"subscribe","payload":{}}
{"type":"subscribe","payload":{"id":"$ID","channel":"no spaces"}}
EOF
seed server_session subscription-cap <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"a"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"b"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"a"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"c"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"d"}}
{"type":"unsubscribe","payload":{"id":"$ID","channel":"a"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"d"}}
EOF
seed server_session publish-and-watch <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{"type":"publish","payload":{"id":"$ID","channel":"news","data":{"x": 1.10},"exclude_self":true}}
{"type":"watch","payload":{"id":"$ID","channel":"news"}}
{"type":"watch","payload":{"id":"$ID","channel":"live"}}
{"type":"unwatch","payload":{"id":"$ID","channel":"news"}}
{"type":"publish","payload":{"id":"$ID","channel":"golden","data":[1e400, -0.0, "\u00e9\n"]}}
EOF
seed server_session refs <<'EOF'
{"type":"connect","payload":{"id":"$ID"}}
{"type":"subscribe","payload":{"id":"$ID","channel":"news","ref":"s1"}}
{"type":"unsubscribe","payload":{"id":"$ID","ref":2}}
{"type":"ping","payload":{"id":"$ID","ref":3}}
{"type":"publish","payload":{"id":"$ID","channel":"a b","data":1,"ref":4}}
{"type":"ping","payload":{"id":"other","ref":"w"}}
{"type":"publish","payload":{"id":"$ID","channel":"news","ref":5}}
EOF

# --- client_inbound: what a server sends after the handshake (client-core/tests/*.rs).
seed client_inbound confirmations-and-messages <<'EOF'
{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"wisdom"}}
{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"news"}}
{"type":"message","payload":{"channel":"news","seq":42,"time":1795000000000,"data":{"headline":"Moon is full","n":[1,2]}}}
{"type":"message","payload":{"channel":"news","seq":42,"time":1795000000000,"data":{"headline":"Moon is full","n":[1,2]}}}
{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"wisdom"}}
{"type":"pong","payload":{"time":1795000000000}}
EOF
seed client_inbound unexpected <<'EOF'
{"type":"wisdom_distribution","payload":{"message":"Howl together."}}
{"type":"publish_confirmation","payload":{"channel":"a","seq":1,"ref":1}}
{"type":"channel_status","payload":{"channel":"news","occupied":true}}
{"type":"initial","payload":{"id":"other"}}
EOF
seed client_inbound unknown-types <<'EOF'
{"type":"presence","payload":{"who":["a"]}}
{"type":"from_the_future"}
{"type":"history","payload":null,"extra":1}
EOF
seed client_inbound invalid-frames <<'EOF'
{"payload":{}}
{"type":7}
{"type":"message"}
{"type":"message","payload":{"channel":"news","seq":-1,"time":0,"data":1}}
{"type":"message","payload":{"channel":"news","seq":1,"time":0}}
{"type":"initial","payload":{"id":5}}
{"type":"pong","payload":{}}
{"type":"error","payload":{"message":"no code"}}
{"type":"subscribe_confirmation","payload":{"status":"maybe"}}
EOF
seed client_inbound errors <<'EOF'
{"type":"error","payload":{"code":"too_many_subscriptions","message":"no","request":"subscribe","channel":"news"}}
{"type":"error","payload":{"code":"broker_unavailable","message":"oops","request":"unsubscribe","channel":"news"}}
{"type":"error","payload":{"code":"invalid_channel","message":"bad","request":"subscribe","channel":"other"}}
{"type":"error","payload":{"code":"shutting_down","message":"bye"}}
EOF
# Empty lines are silence: the connection times out, reconnects, and a new `initial` arrives.
seed client_inbound silence-then-initial <<'EOF'






















{"type":"initial","payload":{"id":"$ID"}}
{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"news"}}
EOF

# --- redis_envelope: payloads on a Howl Redis channel (envelope.rs tests, docs/cluster.md).
seed redis_envelope envelope <<'EOF'
{"howl":1,"node":"node \"1\"","time":99,"seq":42,"data":{"a":[1,"x\"y"]}}
EOF
seed redis_envelope own-echo <<'EOF'
{"howl":1,"node":"node-a","time":99,"seq":1,"data":{"a":[1,"x\"y"]}}
EOF
seed redis_envelope minimal-envelope <<'EOF'
{"howl":1,"data":"x"}
EOF
seed redis_envelope nested-howl-key <<'EOF'
{"howl":1,"data":{"howl":"a payload with its own howl key"}}
EOF
seed redis_envelope other-version <<'EOF'
{"howl":2,"data":1}
EOF
seed redis_envelope plain-object <<'EOF'
{"text":"hi"}
EOF
seed redis_envelope plain-array <<'EOF'
[1,2]
EOF
seed redis_envelope plain-text <<'EOF'
hello wolves
EOF
seed redis_envelope howl-not-envelope <<'EOF'
{"howl":"loud"}
EOF
printf '\xff\xfe' >corpus/redis_envelope/not-utf8

find corpus -type f | sort | sed 's/^/wrote fuzz\//'
