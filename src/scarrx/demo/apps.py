from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "scarrx.demo"
    label = "demo"
    verbose_name = "Demo data"
