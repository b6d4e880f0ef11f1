from django.urls import path

from triage import views

urlpatterns = [
    path("<slug:clinic_slug>/", views.assess, name="assess"),
]
