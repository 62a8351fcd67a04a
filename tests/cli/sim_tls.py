#!/usr/bin/env python3
"""cmsim over TLS: --tls-cert/--tls-key serve HTTPS; a client that trusts
the certificate gets CM's answers, one that does not is refused.  The
certificate is made for the test with the openssl command."""
import base64
import http.client
import os
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim  # noqa: E402


def main():
    d = tempfile.mkdtemp(prefix="cmsim-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    with Cmsim(args=["--time-scale", "0", "--tls-cert", cert,
                     "--tls-key", key]) as sim:
        ctx = ssl.create_default_context(cafile=cert)
        conn = http.client.HTTPSConnection("127.0.0.1", sim.port,
                                           context=ctx, timeout=10)
        tok = base64.b64encode(b"admin:admin").decode()
        conn.request("GET", "/api/version",
                     headers={"Authorization": "Basic " + tok})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        if resp.status != 200 or body != "v45":
            print("FAIL https /api/version: %d %r" % (resp.status, body))
            return 1
        strict = ssl.create_default_context()
        conn = http.client.HTTPSConnection("127.0.0.1", sim.port,
                                           context=strict, timeout=10)
        try:
            conn.request("GET", "/api/version")
            conn.getresponse()
            print("FAIL an untrusted certificate was accepted")
            return 1
        except ssl.SSLError:
            pass
        finally:
            conn.close()
    print("ok   https with --tls-cert/--tls-key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
