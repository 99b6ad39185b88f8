from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "scarrx.assessments"
    label = "assessments"
    verbose_name = "Scar assessments"
