"""The plain Django transfer's tables (a benchmark peer; created by migrate --run-syncdb)."""

from django.db import models


class Account(models.Model):
    balance = models.BigIntegerField(default=0)

    def __str__(self):
        return f"account {self.pk}: {self.balance}"


class Transfer(models.Model):
    debit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key
