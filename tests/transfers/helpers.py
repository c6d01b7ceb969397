from tests.factories import UserFactory, make_wallet
from transfers import services


def person(*, balance=0, name="", **kw):
    return make_wallet(balance=balance, user=UserFactory(full_name=name, **kw))


def send(sender, recipient, amount, *, number=None, **kw):
    """A transfer made the way the check page makes it: quote → token → create."""
    number = number or recipient.number
    quote = services.transfer_quote(wallet=sender, number=number, amount=amount)
    token = services.transfer_token_new(wallet=sender, quote=quote)
    return services.transfer_create(wallet=sender, number=number, amount=amount, token=token, **kw)
