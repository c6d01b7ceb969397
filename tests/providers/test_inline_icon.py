"""The categories page puts each category's SVG icon in the page (no request per icon)."""

import pytest

from providers.templatetags.catalogue import inline_icon


def test_an_icon_of_ours_is_inlined_hidden_from_screen_readers():
    svg = inline_icon("icons/other.svg")
    assert svg.startswith('<svg width="32" height="32" aria-hidden="true" focusable="false" ')
    assert svg.count("aria-hidden") == 1 and svg.rstrip().endswith("</svg>")


@pytest.mark.parametrize(
    "path",
    ["", "icons/missing.svg", "icons/app-192.png", "../../../../etc/passwd.svg", "/etc/x.svg"],
)
def test_anything_else_gives_nothing(path):
    assert inline_icon(path) == ""


@pytest.mark.django_db
def test_the_categories_page_needs_no_icon_request(client, catalogue):
    from providers.models import Category
    from tests.factories import make_wallet

    client.force_login(make_wallet().user)
    html = client.get("/services/").content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "<img" not in main
    assert main.count('<svg width="32" height="32" aria-hidden="true"') == Category.objects.count()
