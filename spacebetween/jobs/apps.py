from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The top floor: `spacebetween worker`, which runs the outbox and every package's minute jobs."""

    name = "spacebetween.jobs"
