"""The never-deleted rule for clinical records and audit rows (DESIGN.md: amended, never
deleted; USP <795> keeps compounding records at least 3 years).

A model that holds a clinical fact inherits `NeverDeleted`: deleting one (or a queryset
of them) raises. Append-only models (the audit tables) also refuse bulk updates.
"""

from django.db import models


class ProtectedQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError(f"{self.model.__name__} records are never deleted")

    def update(self, **kwargs):
        if getattr(self.model, "append_only", False):
            raise PermissionError(f"{self.model.__name__} records are never changed")
        return super().update(**kwargs)


class NeverDeleted(models.Model):
    """Clinical records and audit rows: amended, never deleted."""

    objects = ProtectedQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} records are never deleted")
