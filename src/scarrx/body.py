"""Body sites where scars are graded, photographed and treated: one list for every app."""

from django.db import models


class Site(models.TextChoices):
    FOREHEAD = "forehead", "Forehead"
    TEMPLES = "temples", "Temples"
    CHEEKS = "cheeks", "Cheeks"
    NOSE = "nose", "Nose"
    CHIN = "chin", "Chin"
    JAWLINE = "jawline", "Jawline"
    NECK = "neck", "Neck"
    CHEST = "chest", "Chest"
    UPPER_BACK = "upper_back", "Upper back"
    BACK_OF_ARMS = "back_of_arms", "Back of arms"
    OTHER = "other", "Other"
