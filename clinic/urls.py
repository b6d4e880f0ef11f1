from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views
from clinic.forms import LoginForm, ResetForm

accounts = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=ResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("link/", views.login_link_request, name="login_link_request"),
    path("link/sent/", views.login_link_sent, name="login_link_sent"),
    path("link/<str:token>/", views.login_link, name="login_link"),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("accounts/", include(accounts)),
    path("", include("clinic.dashboard_urls")),
    path("me/", views.me, name="me"),
    path("", include("clinic.booking_urls")),
    path("", include("triage.urls")),
    path("", include("exercises.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<str:name>/", views.outbox_message, name="outbox_message"),
    path("outbox/<str:name>/html", views.outbox_html, name="outbox_html"),
    path("admin/", admin.site.urls),
]
