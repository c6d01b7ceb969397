from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from .models import Category, Provider


@login_required
def categories(request):
    """«Услуги»: the categories, and providers found by name in either language."""
    query = request.GET.get("q", "").strip()[:100]
    found = None
    if query:
        found = list(
            Provider.objects.active().search(query).select_related("category").ordered()[:50]
        )
    rows = Category.objects.ordered().annotate(
        provider_count=Count("providers", filter=Q(providers__active=True))
    )
    return render(
        request,
        "providers/categories.html",
        {"categories": rows, "query": query, "found": found},
    )


@login_required
def category(request, slug):
    """A category's providers, e.g. «Другие» → DosTek group, Оплата ЭЦП, Hoster.kg."""
    current = get_object_or_404(Category, slug=slug)
    return render(
        request,
        "providers/category.html",
        {
            "category": current,
            "providers": Provider.objects.active().filter(category=current).ordered(),
        },
    )
