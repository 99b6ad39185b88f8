from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "scarrx.photos"
    label = "photos"
    verbose_name = "Progress photos"
