"""A small browser for the web figures: cookies, forms, no redirects followed by itself.

http.client only (a new connection per request, as gunicorn's sync workers close them):
the client is cheap next to the server, which is what `make bench` measures.
"""

import http.client
import http.cookies
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

TIMEOUT = 30.0


class Form:
    def __init__(self, action, method):
        self.action, self.method = action, method
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(Form(attrs.get("action") or "", (attrs.get("method") or "get")))
        elif self.forms and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button", "checkbox", "radio"):
                self.forms[-1].fields[attrs["name"]] = attrs.get("value") or ""
        elif self.forms and tag == "button" and attrs.get("name"):
            self.forms[-1].buttons.append((attrs["name"], attrs.get("value") or ""))


def forms(html: str) -> list[Form]:
    """The page's forms. Only the text from each `<form` to its `</form>` is parsed: the
    rest of a page holds no form, and parsing all of it made the client's CPU, which
    shares the machine with the server, grow with the size of the page measured."""
    parser = _Forms()
    start = html.find("<form")
    while start != -1:
        end = html.find("</form>", start)
        end = len(html) if end == -1 else end + len("</form>")
        parser.feed(html[start:end])
        start = html.find("<form", end)
    parser.close()
    return parser.forms


class BenchError(Exception):
    """A page answered other than a person's browser would expect."""


class Browser:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None):
        """One request; returns (status, Location or "", body text)."""
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = http.cookies.SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            location = urlsplit(response.getheader("Location") or "").path
            return response.status, location, text
        finally:
            connection.close()

    def get(self, path, expect=200):
        status, location, text = self.request("GET", path)
        if status != expect:
            raise BenchError(f"GET {path}: {status} {location}")
        return location if expect == 302 else text

    def submit(self, form: Form, values: dict, expect=302):
        status, location, text = self.request("POST", form.action, {**form.fields, **values})
        if status != expect:
            raise BenchError(f"POST {form.action}: {status} {location} {text[:300]!r}")
        return location if expect == 302 else text


def only_form(html: str, action: str) -> Form:
    """The page's POST form whose action is `action` (a form without one posts to its page)."""
    for form in forms(html):
        form.action = urlsplit(form.action).path or action
        if form.method.lower() == "post" and form.action == action:
            return form
    raise BenchError(f"no form posting to {action}")


def sign_in(browser: Browser, phone: str, password: str) -> None:
    """Through the real sign-in pages: the number, then the password."""
    path = "/accounts/login/"
    location = browser.submit(only_form(browser.get(path), path), {"phone": phone})
    location = browser.submit(only_form(browser.get(location), location), {"password": password})
    if location.startswith("/accounts/"):
        raise BenchError(f"the sign-in of {phone} ended at {location}")


def pay_flow(browser: Browser, slug: str, account: str, amount: str) -> None:
    """One payment as a person makes it: the provider's form, «Далее», «Оплатить», receipt."""
    path = f"/pay/{slug}/"
    form = only_form(browser.get(path), path)
    page = browser.submit(form, {"account": account, "amount": amount}, expect=200)
    confirm = only_form(page, f"/pay/{slug}/confirm/")
    if ("action", "pay") not in confirm.buttons:
        raise BenchError(f"no «Оплатить» on the confirm page of {slug}: {page[:300]!r}")
    receipt = browser.submit(confirm, {"action": "pay"})
    if "/receipt/" not in receipt:
        raise BenchError(f"«Оплатить» led to {receipt}, not to a receipt")
    browser.get(receipt)
