from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "scarrx.portal"
    verbose_name = "Patient portal"
