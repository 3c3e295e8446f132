#!/usr/bin/env python3
"""Serve a file-based Go module proxy over HTTP on 127.0.0.1, optionally slowly.

Usage: python3 scripts/module-proxy.py PROXYDIR [--port N] [--delay-zip SUBSTRING=SECONDS]...

PROXYDIR is laid out as the GOPROXY protocol's URL paths (what
scripts/make-fixture-proxy.py writes): <module>/@v/list, <module>/@v/<version>.info,
.mod and .zip, and <module>/@latest, with module paths and versions case-escaped
('!a' for 'A'). GET /<path> serves PROXYDIR/<path>; anything else is a 404.

Binds 127.0.0.1 only, on --port (default 0: a free port) and prints
"listening on 127.0.0.1:<port>" as the first line of standard output. Requests are
served on their own threads, so a slow one never holds up the others.

--delay-zip SUBSTRING=SECONDS (repeatable) sleeps SECONDS before serving any .zip
whose request path contains SUBSTRING (the longest matching delay applies); tests use
it to make a module download slow. Standard library only.
"""

import argparse
import http.server
import os
import sys
import time
import urllib.parse

CONTENT_TYPES = {
    ".info": "application/json",
    ".mod": "text/plain; charset=utf-8",
    ".zip": "application/zip",
}


def parse_delay(text):
    substring, sep, seconds = text.rpartition("=")
    if not sep or not substring:
        raise argparse.ArgumentTypeError(f"expected SUBSTRING=SECONDS, got {text!r}")
    try:
        value = float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {seconds!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"negative delay: {seconds!r}")
    return substring, value


def resolve(root, url_path):
    """The file under root that url_path names, or None (missing, or outside root)."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path)
    parts = path.split("/")
    if not path.startswith("/") or "\\" in path or "\0" in path:
        return None
    segments = parts[1:]
    if not segments or any(s in ("", ".", "..") for s in segments):
        return None
    candidate = os.path.realpath(os.path.join(root, *segments))
    if os.path.commonpath([root, candidate]) != root or not os.path.isfile(candidate):
        return None
    return candidate


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "prox-test-module-proxy"
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.serve(body=True)

    def do_HEAD(self):
        self.serve(body=False)

    def serve(self, body):
        path = resolve(self.server.root, self.path)
        if path is None:
            self.send_text(404, "not found\n", body)
            return
        if path.endswith(".zip"):
            delays = [s for sub, s in self.server.zip_delays if sub in self.path]
            if delays:
                time.sleep(max(delays))
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.basename(path)
        content_type = CONTENT_TYPES.get(os.path.splitext(name)[1])
        if content_type is None:  # @v/list is text; @latest is JSON
            content_type = "application/json" if name == "@latest" else "text/plain; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def send_text(self, status, text, body):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # go fetches many files at once

    def handle_error(self, request, client_address):
        # A client that gives up on a slow download is expected; say so briefly.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            sys.stderr.write(f"client {client_address[0]}:{client_address[1]} went away: {exc}\n")
        else:
            super().handle_error(request, client_address)


def main(argv):
    parser = argparse.ArgumentParser(description="Serve a file-based Go module proxy on 127.0.0.1.")
    parser.add_argument("directory", help="the proxy directory (GOPROXY=file://DIRECTORY layout)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--delay-zip", action="append", type=parse_delay, default=[], metavar="SUBSTRING=SECONDS",
                        help="sleep before serving .zip files whose path contains SUBSTRING (repeatable)")
    args = parser.parse_args(argv[1:])
    root = os.path.realpath(args.directory)
    if not os.path.isdir(root):
        parser.error(f"not a directory: {args.directory}")

    server = Server(("127.0.0.1", args.port), Handler)
    server.root = root
    server.zip_delays = args.delay_zip
    host, port = server.server_address[:2]
    sys.stdout.write(f"listening on {host}:{port}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
