from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "spacebetween.consent"
    label = "consent"
