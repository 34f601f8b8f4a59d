from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "spacebetween.demo"
    verbose_name = "Synthetic demo data"
