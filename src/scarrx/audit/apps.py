from django.apps import AppConfig
from django.db.models.signals import pre_save


class AuditConfig(AppConfig):
    name = "scarrx.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from scarrx.text import refuse_bad_text

        # One rule for the text of every record (scarrx.text), whoever saves it.
        pre_save.connect(refuse_bad_text, dispatch_uid="scarrx.text.refuse_bad_text")
