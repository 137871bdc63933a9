#!/usr/bin/python3
"""A header-adding proxy for browsers in tests (stdlib only).

  keyproxy.py TARGET_BASE_URL KEY PORTFILE

Headless Chromium cannot send an X-API-Key header from the command line,
and `zkeep api` with a key answers /ui/ only with one, as a reverse proxy
in front of it would (the deployment zkeep-api(1) describes). Every GET
is passed to TARGET_BASE_URL + path with "X-API-Key: KEY" added; status,
Content-Type, Location and body come back unchanged. Binds 127.0.0.1 on a
free port and writes the port to PORTFILE.
"""
import http.server
import os
import sys
import urllib.error
import urllib.request


def main():
    target, key, portfile = sys.argv[1], sys.argv[2], sys.argv[3]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            req = urllib.request.Request(target + self.path)
            req.add_header("X-API-Key", key)
            for h in ("Accept",):
                if self.headers.get(h):
                    req.add_header(h, self.headers[h])
            try:
                r = opener.open(req, timeout=30)
            except urllib.error.HTTPError as e:
                r = e
            body = r.read()
            self.send_response(r.status if hasattr(r, "status") else r.code)
            for h in ("Content-Type", "Location", "Content-Security-Policy"):
                if r.headers.get(h):
                    self.send_header(h, r.headers[h])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(s.server_address[1]))
    os.rename(tmp, portfile)
    s.serve_forever()


if __name__ == "__main__":
    main()
