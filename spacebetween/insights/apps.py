from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "spacebetween.insights"

    def ready(self) -> None:
        from spacebetween.clients.events import course_changed
        from spacebetween.insights.hooks import on_answers_stored
        from spacebetween.measures.events import answers_stored

        # New answers, and changes to an episode's sessions or end, mark the episode stale in the
        # writer's own transaction (insights.hooks).
        answers_stored.connect(on_answers_stored, dispatch_uid="insights.stale-on-answers")
        course_changed.connect(on_answers_stored, dispatch_uid="insights.stale-on-course")
