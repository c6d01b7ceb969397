"""Every URL pattern of the project, found by walking the resolver (for the sweeps)."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# A value for each URL parameter, for URLs that need one to exist at all.
SAMPLE = {
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "wallets",
    "url": "nowhere/",
    "pk": "1",
    "code": "000000000000",
    "slug": "x",
    "key": "x",
    "uidb36": "x",
    "token": "x",
}


@dataclass(frozen=True)
class Route:
    route: str  # the pattern text, prefixes included
    name: str | None  # "namespace:name"
    namespace: str | None
    callback: object
    params: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def is_admin(self) -> bool:
        return self.namespace == "admin"

    def url(self, **values) -> str:
        kwargs = {param: values.get(param, SAMPLE[param]) for param in self.params}
        if self.name:
            return reverse(self.name, kwargs=kwargs)
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: kwargs[m[1]], self.route)
        text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m[1]], text)
        return "/" + text.replace("^", "").replace("$", "")


def _params(pattern) -> tuple[str, ...]:
    if isinstance(pattern, RoutePattern):
        return tuple(pattern.converters)
    return tuple(pattern.regex.groupindex)


def _walk(patterns, prefix="", namespace=None, params=()):
    for pattern in patterns:
        found = params + _params(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner, found)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield Route(prefix + str(pattern.pattern), name, namespace, pattern.callback, found)


def all_routes() -> list[Route]:
    """Every URL pattern; of two patterns with one name, the one that resolves first."""
    seen, routes = set(), []
    for route in _walk(get_resolver().url_patterns):
        if route.name and route.name in seen:
            continue  # shadowed (e.g. allauth's account_login by wallets.auth_urls)
        seen.add(route.name)
        routes.append(route)
    return routes
