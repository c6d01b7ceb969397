#!/usr/bin/env python3
"""Render deploy/nginx.conf for a run of its own (standard library only).

    python deploy/nginx.py --listen 127.0.0.1:8000 --upstream 127.0.0.1:8001 --prefix build/nginx

Writes PREFIX/nginx.conf (creating PREFIX and its temporary directories) and prints the
command that runs it in the foreground: nginx -p PREFIX -c PREFIX/nginx.conf -e stderr.
"""

import argparse
import grp
import os
import pwd
import shlex
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(*, listen: str, upstream: str, prefix: Path) -> Path:
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    for name in TEMP_DIRS:
        (prefix / name).mkdir(exist_ok=True)
    user = ""
    if os.geteuid() == 0:
        # Workers of a root master drop to nobody; nginx hands its temp dirs to that user.
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {
        "@USER@": user,
        "@LISTEN@": listen,
        "@UPSTREAM@": upstream,
        "@PREFIX@": str(prefix),
    }.items():
        text = text.replace(key, value)
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def command(conf: Path, nginx: str = "nginx") -> list[str]:
    return [nginx, "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT nginx listens on")
    parser.add_argument("--upstream", required=True, help="gunicorn's HOST:PORT or unix:PATH")
    parser.add_argument("--prefix", required=True, type=Path, help="its own directory")
    parser.add_argument("--nginx", default="nginx", help="the nginx binary")
    options = parser.parse_args()
    conf = render(listen=options.listen, upstream=options.upstream, prefix=options.prefix)
    print(shlex.join(command(conf, options.nginx)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
