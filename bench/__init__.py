"""`make bench`'s helpers (scripts/bench.py runs them). Nothing here is part of the product.

timing: operations/s from several processes; client: the HTTP client of the web figures;
urls: the benchmark-only URLconf with the floor view; peer, peer_settings and plain: the
transfer peers (django-hordak, a plain Django transfer), each in its own database.
"""
