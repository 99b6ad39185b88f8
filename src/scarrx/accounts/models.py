import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in: staff (pharmacist, technician, prescriber) or a patient."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Prescribers: licence or NPI number, shown on prescriptions later.
    licence_number = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role(self) -> str | None:
        from scarrx.accounts.roles import role_of

        return role_of(self)


class ApiToken(models.Model):
    """A bearer token for another system. Only a SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class Pharmacy(models.Model):
    """The pharmacy running the programme (one per installation)."""

    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "pharmacy"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Pharmacy":
        pharmacy = cls.objects.order_by("pk").first()
        return pharmacy or cls(name="scarrx pharmacy")
