from django.urls import path

from exercises import views

urlpatterns = [
    path("exercises/", views.library, name="library"),
    path("exercises/new/", views.exercise_create, name="exercise_create"),
    path("exercises/<int:pk>/", views.exercise_detail, name="exercise_detail"),
    path("exercises/<int:pk>/edit/", views.exercise_edit, name="exercise_edit"),
    path("exercises/<int:pk>/adapt/", views.exercise_adapt, name="exercise_adapt"),
    path("exercises/<int:pk>/hide/", views.exercise_hide, name="exercise_hide"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<int:pk>/", views.program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", views.program_edit, name="program_edit"),
    path(
        "programs/<int:pk>/search/", views.program_exercise_search, name="program_exercise_search"
    ),
    path("programs/<int:pk>/items/add/", views.program_item_add, name="program_item_add"),
    path("programs/<int:pk>/duplicate/", views.program_duplicate, name="program_duplicate"),
    path("dashboard/patients/<int:patient_pk>/assign/", views.assign, name="assign"),
    path("plans/<int:pk>/", views.plan, name="plan"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/log/", views.plan_log, name="plan_log"),
    path("p/<str:token>/", views.plan_link, name="plan_link"),
    path("p/<str:token>/log/", views.plan_link_log, name="plan_link_log"),
    path("p/<str:token>/plan.ics", views.plan_ics, name="plan_ics"),
    path("done/<str:token>/", views.plan_done, name="plan_done"),
    path("plans/<int:pk>/reminders/", views.plan_reminders, name="plan_reminders"),
    path("p/<str:token>/reminders/", views.plan_link_reminders, name="plan_link_reminders"),
    path("unsubscribe/<str:token>/", views.reminders_unsubscribe, name="reminders_unsubscribe"),
]
