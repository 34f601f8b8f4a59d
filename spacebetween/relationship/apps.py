from django.apps import AppConfig


class RelationshipConfig(AppConfig):
    name = "spacebetween.relationship"
