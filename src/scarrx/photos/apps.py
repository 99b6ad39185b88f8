from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "scarrx.photos"
    label = "photos"
    verbose_name = "Progress photos"

    def ready(self) -> None:
        from django.conf import settings

        from scarrx.imaging.work import configure_heavy_work

        # At most this many uploads, calibrations and measurements at once (issue 7).
        configure_heavy_work(settings.IMAGING_CONCURRENCY)
