from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "spacebetween.accounts"

    def ready(self) -> None:
        from spacebetween.accounts import checks  # noqa: F401  (registers the deployment checks)
