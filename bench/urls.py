"""The benchmark-only URLconf (ROOT_URLCONF=bench.urls): the product's URLs plus the floor.

The floor view does only what every cabinet page must — the session and the signed-in user
loaded, nothing rendered — so that `make bench` can price a page or a payment flow in floor
requests of the same stack. Never part of the product's URLs.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns


@login_required
def floor(request):
    return HttpResponse(str(request.user.pk), content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *product_urlpatterns]
