from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Self-assessment"

    def ready(self) -> None:
        from triage import engine, services

        # Licensed wording lives in the database, installed by each clinic.
        engine.configure_text_storage(
            provider=services.installed_text, writer=services.instrument_text_install
        )
