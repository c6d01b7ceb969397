"""Background tasks of cards (Django's tasks framework, like billing.tasks)."""

from django.tasks import task


@task
def topup_process(topup_id: int) -> str:
    """One attempt for a top-up from a card (cards.services.topup_attempt); its status."""
    from .models import TopUp
    from .services import topup_attempt

    return topup_attempt(topup=TopUp(pk=topup_id)).status


@task
def card_void_task(card_id: int) -> bool:
    """Release a card's hold (cards.services.card_void); the sweep retries a failure."""
    from .models import Card
    from .services import card_void

    return card_void(card=Card(pk=card_id))
