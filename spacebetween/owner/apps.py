from django.apps import AppConfig


class OwnerConfig(AppConfig):
    name = "spacebetween.owner"
    label = "owner"
