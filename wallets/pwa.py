"""The installable app: web app manifest and a service worker that never caches pages."""

import json

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

SW_VERSION = "2"


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request):
    data = {
        "name": _("Kapchyk — e-wallet"),
        "short_name": _("Kapchyk"),
        "start_url": "/cabinet/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f7f6",
        "theme_color": "#0b6e4f",
        "icons": [
            {"src": static("icons/app-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/app-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/app-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    body = render_to_string(
        "pwa/sw.js", {"version": SW_VERSION, "static_prefix": settings.STATIC_URL}
    )
    return HttpResponse(body, content_type="application/javascript")
