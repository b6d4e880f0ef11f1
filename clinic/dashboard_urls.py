from django.urls import path

from clinic import dashboard_views as views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/ping/", views.dashboard_ping, name="dashboard_ping"),
    path("dashboard/patients/", views.patient_list, name="patient_list"),
    path("dashboard/patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("dashboard/patients/<int:pk>/edit/", views.patient_edit, name="patient_edit"),
    path(
        "dashboard/patients/<int:pk>/notes/",
        views.patient_note_create,
        name="patient_note_create",
    ),
    path("dashboard/audit/", views.audit_log, name="audit_log"),
]
