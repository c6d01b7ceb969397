from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def categories(request):  # placeholder until the catalogue lands
    return HttpResponse("")
