#!/usr/bin/env python3
"""Verifies a Patron webhook delivery (Standard Webhooks 1.0); Python 3 standard library only.
Usage: WEBHOOK_SECRET=whsec_... verify-webhook.py WEBHOOK_ID WEBHOOK_TIMESTAMP 'WEBHOOK_SIGNATURE' [TOLERANCE_S] < body
Exits 0 if a v1 signature matches and the timestamp is within TOLERANCE_S (default 300; 0 skips it), else 1."""
import base64, hashlib, hmac, os, sys, time

def verify(secret, msg_id, timestamp, signatures, body, tolerance=300):
    if tolerance and abs(time.time() - int(timestamp)) > tolerance:
        return False  # too old or too new: a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body  # the exact bytes received, not re-serialized JSON
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(s[3:], expected) for s in signatures.split() if s.startswith("v1,"))

if __name__ == "__main__":
    msg_id, timestamp, signatures = sys.argv[1:4]
    tolerance = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    ok = verify(os.environ["WEBHOOK_SECRET"], msg_id, timestamp, signatures, sys.stdin.buffer.read(), tolerance)
    print("valid" if ok else "invalid")
    sys.exit(0 if ok else 1)
