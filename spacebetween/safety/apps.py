from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "spacebetween.safety"
