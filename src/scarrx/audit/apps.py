from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "scarrx.audit"
    label = "audit"
    verbose_name = "Audit"
