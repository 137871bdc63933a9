#!/usr/bin/python3
"""Small HTTP endpoints for the monitoring tests (stdlib only).

  httpsink.py serve FILE [KEY] PORTFILE
      GET /metrics answers FILE's contents (Prometheus text) - a stand-in for
      zkeep api's /metrics in the plumbing tests, not the real exporter; with
      KEY, requests without "X-API-Key: KEY" get 401. Every request is logged
      to FILE.requests as "path key-ok|key-bad".
  httpsink.py record DIR PORTFILE
      Alertmanager stand-in: every POST (vmalert sends a JSON list of alerts
      to /api/v2/alerts) is saved as DIR/NNNN.json:
      {"received": unix time, "path": ..., "alerts": the body as sent}.

Binds 127.0.0.1 on a free port and writes the port to PORTFILE.
"""
import http.server
import json
import os
import sys
import time


def main():
    mode = sys.argv[1]
    if mode == "serve":
        src = sys.argv[2]
        key = sys.argv[3] if len(sys.argv) > 4 else None
        portfile = sys.argv[-1]
    elif mode == "record":
        outdir = sys.argv[2]
        portfile = sys.argv[3]
    else:
        sys.exit("usage: httpsink.py serve FILE [KEY] PORTFILE | record DIR PORTFILE")
    count = [0]

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if mode != "serve":
                self.send_error(404)
                return
            ok = key is None or self.headers.get("X-API-Key") == key
            with open(src + ".requests", "a") as f:
                f.write("%s %s\n" % (self.path, "key-ok" if ok else "key-bad"))
            if not ok:
                self.send_error(401)
                return
            with open(src, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if mode == "record":
                count[0] += 1
                p = os.path.join(outdir, "%04d.json" % count[0])
                rec = {"received": time.time(), "path": self.path,
                       "alerts": json.loads(body or b"null")}
                with open(p + ".tmp", "w") as f:
                    json.dump(rec, f)
                os.rename(p + ".tmp", p)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
