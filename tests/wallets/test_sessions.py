"""Sessions end after inactivity; «sign out on all other devices»; a new password does it too."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from wallets.models import User
from wallets.services import sessions_end_others

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client) -> bool:
    response = client.get("/cabinet/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith(LOGIN)
        return False
    assert response.status_code == 200
    return True


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_session_ends_after_15_minutes_without_a_request():
    client = signed_in(UserFactory())
    assert is_signed_in(client)
    expires = session_row(client).expire_date
    assert abs(expires - timezone.now() - datetime.timedelta(minutes=15)) < datetime.timedelta(
        seconds=30
    )
    Session.objects.filter(pk=session_row(client).pk).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert not is_signed_in(client)


def test_a_real_sign_in_also_ends_after_15_idle_minutes():
    # The sign-in form makes a browser-session cookie; the server still ends it when idle.
    owner = UserFactory()
    client = Client()
    step = client.post(LOGIN, {"phone": owner.phone})
    assert client.post(step.headers["Location"], {"password": PASSWORD}).status_code == 302
    assert is_signed_in(client)
    row = session_row(client)
    left = row.expire_date - timezone.now()
    assert datetime.timedelta(minutes=14) < left <= datetime.timedelta(minutes=15)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now())
    assert not is_signed_in(client)


def test_a_request_pushes_the_end_forward_at_most_once_a_minute():
    client = signed_in(UserFactory())
    assert is_signed_in(client)
    row = session_row(client)
    pushed = row.expire_date
    # Within the minute: the session is read, not written.
    response = client.get("/cabinet/")
    assert "sessionid" not in response.cookies
    assert session_row(client).expire_date == pushed
    # A minute later (the last push moved back): the request pushes the end forward.
    store = client.session
    store["_refreshed"] -= 61
    store.save()
    Session.objects.filter(pk=row.pk).update(
        expire_date=timezone.now() + datetime.timedelta(minutes=1)
    )
    response = client.get("/cabinet/")
    assert response.status_code == 200
    assert response.cookies["sessionid"]["max-age"] == 15 * 60
    assert session_row(client).expire_date > timezone.now() + datetime.timedelta(minutes=14)


def test_security_page_is_linked_from_the_cabinet_and_says_the_limit():
    client = signed_in(UserFactory())
    home = client.get("/cabinet/").content.decode()
    assert 'href="/cabinet/security/">Безопасность</a>' in home
    page = client.get("/cabinet/security/").content.decode()
    assert "<h1>Безопасность</h1>" in page
    assert "Выйти на всех других устройствах</button>" in page
    assert 'href="/accounts/password/change/"' in page


def test_security_page_needs_sign_in():
    response = Client().get("/cabinet/security/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN)


def test_sign_out_everywhere_else_keeps_this_device_only():
    owner = UserFactory()
    here, phone, laptop = signed_in(owner), signed_in(owner), signed_in(owner)
    stranger = signed_in(UserFactory())
    old_key = here.cookies["sessionid"].value

    response = here.post("/cabinet/security/", follow=True)
    assert response.redirect_chain == [("/cabinet/security/", 302)]
    assert "Вход на всех других устройствах завершён." in response.content.decode()

    assert here.cookies["sessionid"].value != old_key  # a new key for the kept session
    assert not Session.objects.filter(session_key=old_key).exists()
    assert is_signed_in(here)
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert is_signed_in(stranger)
    # The refused sessions are gone from the table, not only refused.
    assert Session.objects.filter(session_key=phone.cookies["sessionid"].value).count() == 0
    owner.refresh_from_db()
    assert len(owner.session_salt) == 32


def test_sign_out_everywhere_needs_post():
    owner = UserFactory()
    client, other = signed_in(owner), signed_in(owner)
    assert client.get("/cabinet/security/").status_code == 200
    assert client.put("/cabinet/security/").status_code == 405
    assert is_signed_in(other)


def test_service_without_a_kept_session_ends_them_all():
    owner = UserFactory()
    web, other = signed_in(owner), signed_in(owner)
    sessions_end_others(user=owner, keep_session_key=None)
    assert not is_signed_in(web)
    assert not is_signed_in(other)
    # And signing in again works with the new salt.
    assert is_signed_in(signed_in(User.objects.get(pk=owner.pk)))


def test_service_keeps_the_given_session_outside_a_request():
    owner = UserFactory()
    kept, other = signed_in(owner), signed_in(owner)
    sessions_end_others(user=owner, keep_session_key=kept.cookies["sessionid"].value)
    assert is_signed_in(kept)
    assert not is_signed_in(other)


def test_service_never_keeps_another_users_session():
    owner, stranger = UserFactory(), UserFactory()
    mine = signed_in(owner)
    theirs = signed_in(stranger)
    sessions_end_others(user=owner, keep_session_key=theirs.cookies["sessionid"].value)
    assert not is_signed_in(mine)
    assert is_signed_in(theirs)  # untouched: not re-hashed, not ended
    assert Session.objects.filter(session_key=theirs.cookies["sessionid"].value).exists()


def test_existing_sessions_survive_the_salt_field():
    # An empty salt is Django's own hash: deploying the field signs nobody out.
    owner = UserFactory()
    assert owner.session_salt == ""
    from django.contrib.auth.base_user import AbstractBaseUser

    assert owner.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(owner)


def test_password_change_ends_the_other_sessions():
    owner = UserFactory()
    here, other = signed_in(owner), signed_in(owner)
    new_password = "newpass2026x"
    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    owner.refresh_from_db()
    assert owner.check_password(new_password)
    assert is_signed_in(here)
    assert not is_signed_in(other)
    assert SESSION_KEY not in other.session
