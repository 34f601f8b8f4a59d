from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "spacebetween.insights"
