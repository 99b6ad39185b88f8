from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "scarrx.treatment"
    label = "treatment"
    verbose_name = "Treatment course"

    def ready(self) -> None:
        # A recall reaches patients through the fills made from every batch it reached.
        from scarrx.pharmacy.queries import PATIENT_PATHS
        from scarrx.treatment.queries import fill_path

        if fill_path not in PATIENT_PATHS:
            PATIENT_PATHS.append(fill_path)
