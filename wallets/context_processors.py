from django.conf import settings


def kapchyk(request):
    return {"support_contacts": settings.KAPCHYK_SUPPORT}
