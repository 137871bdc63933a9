#!/usr/bin/env python3
"""A real HTTP server on 127.0.0.1 for the notification tests: records each
request (method, path, headers, body, arrival time) as a JSON line in LOG
and answers as told.

  http_recorder.py LOG PORTFILE [--fail N] [--status CODE] [--hang]

--fail N: the first N requests of each path get HTTP 500, then 200.
--status CODE: every request gets CODE (default 200).
--hang: read the request, record it, and never answer (the deadline test).
The port it bound (0: any free one) is written to PORTFILE once it listens.
"""
import argparse
import http.server
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("portfile")
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--hang", action="store_true")
    a = ap.parse_args()
    lock = threading.Lock()
    seen = {}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            with lock:
                seen[self.path] = seen.get(self.path, 0) + 1
                k = seen[self.path]
                with open(a.log, "a") as f:
                    f.write(json.dumps({
                        "method": self.command, "path": self.path,
                        "headers": {h.lower(): v for h, v in self.headers.items()},
                        "body": body.decode("utf-8", "replace"), "t": time.time(),
                    }) + "\n")
            if a.hang:
                time.sleep(3600)
                return
            code = 500 if k <= a.fail else a.status
            out = b"OK" if code == 200 else b"no"
            self.send_response(code)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.portfile + ".tmp", a.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
