"""The operator gateway's callback: POST sessionId, serviceCode, phoneNumber, networkCode,
text → text/plain "CON …" (the session goes on) or "END …" (it closes).

Only the gateway may call it: the shared secret (header X-USSD-Secret or a `secret`
parameter) when USSD_SHARED_SECRET is set, and the caller's address in USSD_ALLOWED_IPS
when that list is set. With neither configured nobody gets in.
"""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from wallets.audit import Origin

from . import engine

logger = logging.getLogger(__name__)


def _ip_allowed(address: str, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            logger.warning("USSD_ALLOWED_IPS has an invalid entry: %r", entry)
    return False


def gateway_allowed(request) -> bool:
    secret = settings.USSD_SHARED_SECRET
    allowed_ips = [ip for ip in settings.USSD_ALLOWED_IPS if ip.strip()]
    if not secret and not allowed_ips:
        return False
    if secret:
        given = (
            request.headers.get("X-USSD-Secret")
            or request.POST.get("secret")
            or request.GET.get("secret")
            or ""
        )
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return False
    # The gateway's address as the rate limits see it: behind nginx (TRUSTED_PROXY_COUNT=1)
    # the last X-Forwarded-For hop, not the proxy's 127.0.0.1.
    return not allowed_ips or _ip_allowed(Origin.of_request(request).ip or "", allowed_ips)


def _plain(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@never_cache
def gateway(request):
    if not gateway_allowed(request):
        return _plain("Forbidden", status=403)
    if request.method != "POST":
        response = _plain("END Method not allowed", status=405)
        response["Allow"] = "POST"
        return response
    data = request.POST
    body = engine.handle(
        session_id=data.get("sessionId", ""),
        phone=data.get("phoneNumber", ""),
        text=data.get("text", ""),
    )
    return _plain(body)


# The engine strips control characters from every field itself (split_inputs, the number):
# a NUL from the operator's gateway is not a 400 here (wallets.middleware).
gateway.nul_bytes_tolerated = True
