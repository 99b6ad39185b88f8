from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "scarrx.patients"
    label = "patients"
    verbose_name = "Patients"
