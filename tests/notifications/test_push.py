"""Web Push against a push service on 127.0.0.1 started by the test: the encrypted payload
arrives and decrypts (with the browser's key made here) to the notification's text, signed
with our VAPID key; 404/410 drop the subscription; a slow push service never holds up the
request (the send is a task); the subscribe/unsubscribe endpoints and the page's button."""

import base64
import io
import json
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from py_vapid import Vapid

from notifications.models import Notification, PushSubscription
from notifications.push import vapid_keys_new
from notifications.services import notify
from tests.factories import PASSWORD, UserFactory, make_wallet

from .pushserver import Browser, PushService

pytestmark = pytest.mark.django_db
SUBSCRIBE = reverse("notifications:push_subscribe")
UNSUBSCRIBE = reverse("notifications:push_unsubscribe")
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def vapid(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys_new()
    settings.VAPID_SUBJECT = "mailto:push-test@kapchyk.kg"
    settings.OUTBOUND_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def service():
    server = PushService()
    yield server
    server.close()


def subscribe(user, service, path="/push/one"):
    browser = Browser()
    subscription = PushSubscription.objects.create(
        user=user, endpoint=service.url + path, **browser.keys
    )
    return browser, subscription


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def vapid_claims(header: str, public_key: str) -> dict:
    """The claims of an `Authorization: vapid t=<JWT>, k=<key>` header, its ES256 signature
    checked against `public_key` (raises InvalidSignature otherwise)."""
    scheme, _, rest = header.partition(" ")
    assert scheme == "vapid"
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    assert params["k"] == public_key
    head, claims, signature = params["t"].split(".")
    raw = _unb64(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(public_key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(_unb64(claims))


def _ky_text():
    from django.utils.translation import gettext

    return gettext("Notifications")


def test_the_notification_arrives_encrypted_to_the_browser_and_signed_by_us(
    vapid, service, django_capture_on_commit_callbacks
):
    user = UserFactory(language="ky")
    browser, subscription = subscribe(user, service)
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(user=user, kind=Notification.Kind.OTHER, text=_ky_text, url="/x/")
    (request,) = service.received
    headers = request["headers"]
    assert request["path"] == "/push/one"
    assert headers["Content-Encoding"] == "aes128gcm"
    assert headers["TTL"] == str(vapid.PUSH_TTL) and headers["Urgency"] == "normal"
    claims = vapid_claims(headers["Authorization"], vapid.VAPID_PUBLIC_KEY)
    assert claims["aud"] == service.url and claims["sub"] == "mailto:push-test@kapchyk.kg"
    assert b"\xd0\x91" not in request["body"]  # the text is not in clear
    shown = json.loads(browser.decrypt(request["body"]))
    assert shown == {"title": "Kapchyk", "body": "Билдирүүлөр", "url": "/x/", "tag": f"n{note.pk}"}
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None


def test_every_browser_of_the_owner_gets_it_and_nobody_else(
    vapid, service, django_capture_on_commit_callbacks
):
    user, other = UserFactory(), UserFactory()
    phone, _ = subscribe(user, service, "/phone")
    laptop, _ = subscribe(user, service, "/laptop")
    subscribe(other, service, "/other")
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind=Notification.Kind.NEW_DEVICE, text="Вход", url="")
    by_path = {r["path"]: r for r in service.received}
    assert sorted(by_path) == ["/laptop", "/phone"]
    assert json.loads(phone.decrypt(by_path["/phone"]["body"]))["body"] == "Вход"
    assert json.loads(laptop.decrypt(by_path["/laptop"]["body"]))["url"] == "/notifications/"
    assert by_path["/phone"]["headers"]["Urgency"] == "high"  # a sign-in wakes the phone


@pytest.mark.parametrize(("status", "kept"), [(410, False), (404, False), (500, True), (301, True)])
def test_a_gone_subscription_is_deleted_and_an_error_keeps_it(
    status, kept, vapid, service, django_capture_on_commit_callbacks
):
    service.status = status
    user = UserFactory()
    _, subscription = subscribe(user, service)
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(user=user, kind=Notification.Kind.OTHER, text="x")
    assert len(service.received) == 1  # a redirect is an answer, never followed
    assert PushSubscription.objects.filter(pk=subscription.pk).exists() is kept
    assert Notification.objects.filter(pk=note.pk).exists()  # the in-app row stays
    if kept:
        subscription.refresh_from_db()
        assert subscription.last_success_at is None


def test_a_private_address_is_refused_unless_allowed(
    vapid, service, django_capture_on_commit_callbacks
):
    vapid.OUTBOUND_ALLOW_PRIVATE = False
    user = UserFactory()
    _, subscription = subscribe(user, service)
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind=Notification.Kind.OTHER, text="x")
    assert service.received == []
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_without_vapid_keys_push_is_off(settings, service, django_capture_on_commit_callbacks):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    user = UserFactory()
    subscribe(user, service)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(user=user, kind=Notification.Kind.OTHER, text="x")
    assert callbacks == []  # no SMS asked, no push: no task at all
    assert service.received == []


@pytest.mark.django_db(transaction=True)
def test_a_slow_push_service_never_holds_up_the_request(vapid, service):
    """The password change answers while the push service has not been called at all: the
    push is a task row committed with the change, sent by the worker afterwards."""
    vapid.TASKS = DB_TASKS
    service.delay = 3.0
    wallet = make_wallet()
    browser, _ = subscribe(wallet.user, service)
    client = Client()
    client.force_login(wallet.user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "newpass2026", "password2": "newpass2026"},
    )
    assert response.status_code == 302
    assert service.received == []  # the request did not wait for it
    task = DBTaskResult.objects.get(task_path="notifications.tasks.notification_deliver")
    assert task.status == "READY"
    call_command(
        "db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert service.arrived.wait(5)
    text = json.loads(browser.decrypt(service.received[0]["body"]))["body"]
    assert text.startswith("Капчык: пароль кошелька +996 ") and "изменён" in text
    assert DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL"


# --- subscribing this browser ---


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("notifications:list")).content.decode()
    token = re.search(r'data-csrf="([^"]+)"', page)[1]
    return client, token


def post_json(client, url, data, token=None):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def test_the_page_offers_push_only_when_configured_hidden_until_js_shows_it(client, vapid):
    client.force_login(UserFactory())
    html = client.get(reverse("notifications:list")).content.decode()
    assert f'<div id="push" hidden data-key="{vapid.VAPID_PUBLIC_KEY}"' in html
    assert "Включить уведомления" in html and "/static/js/push" in html
    vapid.VAPID_PRIVATE_KEY = ""
    html = client.get(reverse("notifications:list")).content.decode()
    assert 'id="push"' not in html and "js/push" not in html


def test_subscribe_stores_this_browser_for_the_owner_with_the_csrf_token(vapid):
    user = UserFactory()
    client, token = csrf_client(user)
    browser = Browser()
    data = {"endpoint": "https://push.example.org/send/abc", "keys": browser.keys}
    assert post_json(client, SUBSCRIBE, data).status_code == 403  # no token
    assert not PushSubscription.objects.exists()
    response = post_json(client, SUBSCRIBE, data, token)
    assert (response.status_code, response.json()) == (200, {"ok": True})
    saved = PushSubscription.objects.get()
    assert (saved.user, saved.endpoint, saved.p256dh, saved.auth) == (
        user,
        data["endpoint"],
        browser.keys["p256dh"],
        browser.keys["auth"],
    )
    # The same browser, signed in as someone else: it is theirs now, still one row.
    other = UserFactory()
    client2, token2 = csrf_client(other)
    assert post_json(client2, SUBSCRIBE, data, token2).status_code == 200
    assert PushSubscription.objects.get().user == other


@pytest.mark.parametrize(
    "data",
    [
        {"endpoint": "https://push.example.org/x", "keys": {"p256dh": "short", "auth": "x"}},
        {"endpoint": "ftp://push.example.org/x", "keys": "valid"},
        {"endpoint": "http://push.example.org/x", "keys": "valid"},  # https only here
        {"endpoint": "https://push.example.org/x"},
        ["not", "an", "object"],
    ],
)
def test_a_bad_subscription_is_refused_clearly_and_nothing_is_stored(vapid, data):
    vapid.OUTBOUND_ALLOW_PRIVATE = False
    if isinstance(data, dict) and data.get("keys") == "valid":
        data["keys"] = Browser().keys
    client, token = csrf_client(UserFactory())
    response = post_json(client, SUBSCRIBE, data, token)
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "Не удалось прочитать подписку этого браузера.",
    }
    assert not PushSubscription.objects.exists()


def test_unsubscribe_forgets_only_the_owners_own_subscription(vapid, service):
    alice, bob = UserFactory(), UserFactory()
    _, mine = subscribe(alice, service, "/alice")
    _, theirs = subscribe(bob, service, "/bob")
    client, token = csrf_client(alice)
    assert post_json(client, UNSUBSCRIBE, {"endpoint": theirs.endpoint}, token).status_code == 200
    assert PushSubscription.objects.filter(pk=theirs.pk).exists()
    assert post_json(client, UNSUBSCRIBE, {"endpoint": mine.endpoint}, token).status_code == 200
    assert not PushSubscription.objects.filter(pk=mine.pk).exists()


def test_the_endpoints_are_for_signed_in_owners_and_posts_only(client, vapid):
    assert client.post(SUBSCRIBE, "{}", content_type="application/json")["Location"].startswith(
        "/accounts/login/"
    )
    client.force_login(UserFactory())
    assert client.get(SUBSCRIBE).status_code == 405
    vapid.VAPID_PUBLIC_KEY = ""
    data = {"endpoint": "https://push.example.org/x", "keys": Browser().keys}
    assert post_json(client, SUBSCRIBE, data).status_code == 404  # push is off
    assert not PushSubscription.objects.exists()


def test_vapid_keys_command_prints_a_working_pair():
    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().split())
    public, private = values["VAPID_PUBLIC_KEY"], values["VAPID_PRIVATE_KEY"]
    assert len(_unb64(public)) == 65 and len(_unb64(private)) == 32
    header = Vapid.from_string(private_key=private).sign(
        {"aud": "https://push.example.org", "sub": "mailto:a@kapchyk.kg", "exp": 2_000_000_000}
    )["Authorization"]
    assert vapid_claims(header, public)["aud"] == "https://push.example.org"
    other = vapid_keys_new()[0]  # another pair's public key does not verify it
    with pytest.raises(InvalidSignature):
        vapid_claims(header.replace(f"k={public}", f"k={other}"), other)


def test_a_subscription_with_broken_keys_is_dropped_and_the_others_still_get_it(
    vapid, service, django_capture_on_commit_callbacks
):
    user = UserFactory()
    browser, good = subscribe(user, service, "/good")
    broken = PushSubscription.objects.create(
        user=user, endpoint=service.url + "/broken", p256dh="AAAA", auth="AAAA"
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind=Notification.Kind.OTHER, text="x")
    assert [r["path"] for r in service.received] == ["/good"]
    assert not PushSubscription.objects.filter(pk=broken.pk).exists()
    assert PushSubscription.objects.filter(pk=good.pk).exists()
