from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "spacebetween.rights"
    label = "rights"
