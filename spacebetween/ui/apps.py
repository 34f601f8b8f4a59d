from django.apps import AppConfig


class UiConfig(AppConfig):
    """The page kit every package's pages share: form rendering, security headers, the health check,
    the base template, the form partials and the static files. It imports no other package."""

    name = "spacebetween.ui"
