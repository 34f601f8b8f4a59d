from django.apps import AppConfig


class FormulationConfig(AppConfig):
    name = "spacebetween.formulation"
