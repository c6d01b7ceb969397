"""Background tasks of billing (Django's tasks framework: in-process on the embedded default,
the database queue worked by `manage.py db_worker` in production)."""

from django.tasks import task


@task
def payment_process(payment_id: int) -> str:
    """One pay attempt for a payment (billing.services.payment_attempt); its status after."""
    from .models import Payment
    from .services import payment_attempt

    return payment_attempt(payment=Payment(pk=payment_id)).status
