from django.urls import path

from triage import views

urlpatterns = [
    path("assess/<slug:clinic_slug>/", views.assess, name="assess"),
    path("assess/<slug:clinic_slug>/step/<int:number>/", views.assess_step, name="assess_step"),
    path("assess/result/<str:token>/", views.assess_result, name="assess_result"),
    path("dashboard/intakes/<int:pk>/", views.intake_detail, name="intake_detail"),
    path("dashboard/intakes/<int:pk>/review/", views.intake_review, name="intake_review"),
    path("dashboard/intakes/<int:pk>/fhir.json", views.intake_fhir, name="intake_fhir"),
]
