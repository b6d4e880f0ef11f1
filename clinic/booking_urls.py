from django.urls import path

from clinic import booking_views as views

urlpatterns = [
    path("book/<slug:clinic_slug>/", views.book, name="book"),
    path("consult/<str:token>/", views.consult_link, name="consult_link"),
    path("consult/<str:token>/consult.ics", views.consult_link_ics, name="consult_link_ics"),
    path("consult/<str:token>/cancel/", views.consult_link_cancel, name="consult_link_cancel"),
    path(
        "consult/<str:token>/reschedule/",
        views.consult_link_reschedule,
        name="consult_link_reschedule",
    ),
    path("dashboard/schedule/", views.schedule, name="schedule"),
    path("dashboard/patients/<int:pk>/book/", views.staff_book, name="staff_book"),
    path(
        "dashboard/consults/<int:pk>/cancel/",
        views.staff_consult_cancel,
        name="staff_consult_cancel",
    ),
    path(
        "dashboard/consults/<int:pk>/reschedule/",
        views.staff_consult_reschedule,
        name="staff_consult_reschedule",
    ),
    path(
        "dashboard/consults/<int:pk>/outcome/",
        views.staff_consult_outcome,
        name="staff_consult_outcome",
    ),
]
