from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "spacebetween.api"
