from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "spacebetween.delivery"

    def ready(self) -> None:
        from spacebetween.delivery import logfilter

        logfilter.install()
