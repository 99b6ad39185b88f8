from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "scarrx.pharmacy"
    label = "pharmacy"
    verbose_name = "Pharmacy and compounding"
