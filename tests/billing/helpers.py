import re

from tests.factories import PASSWORD  # noqa: F401

INN = "01234567890123"


def hidden(response, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def text(response):
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"</?(span|a|strong|b|em|abbr)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def next_step(client, provider, account, amount):
    """The provider form → «Далее»: the confirm page."""
    return client.post(f"/pay/{provider.slug}/", {"account": account, "amount": amount})


def confirm_data(response, action="pay"):
    return {
        "account": hidden(response, "account"),
        "amount": hidden(response, "amount"),
        "provider_id": hidden(response, "provider_id"),
        "token": hidden(response, "token"),
        "action": action,
    }
