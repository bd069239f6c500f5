from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from epidispatch.api.api import api
from epidispatch.certificates import views as certificate_views
from epidispatch.web import dose_views, household_views, import_views, registry_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("units/", views.unit_index, name="unit_index"),
    path("units/<str:code>/", views.unit_detail, name="unit_detail"),
    path("units/<str:code>/residents/", registry_views.resident_list, name="resident_list"),
    path("units/<str:code>/clearance/", registry_views.clearance, name="clearance"),
    path("units/<str:code>/due/", registry_views.due, name="due"),
    path("units/<str:code>/households/", household_views.households, name="households"),
    path(
        "household-members/<int:pk>/remove/",
        household_views.household_member_delete,
        name="household_member_delete",
    ),
    path("residents/", registry_views.residents_home, name="residents_home"),
    path("residents/<int:pk>/", registry_views.resident_detail, name="resident_detail"),
    path(
        "residents/<int:pk>/unmask/",
        registry_views.resident_unmask_view,
        name="resident_unmask",
    ),
    path("sites/<str:code>/doses/new/", registry_views.dose_new, name="dose_new"),
    path("doses/<int:pk>/correct/", dose_views.dose_correct_view, name="dose_correct"),
    path("doses/<int:pk>/delete/", dose_views.dose_delete_view, name="dose_delete"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/templates/<str:kind>.xlsx", import_views.import_template, name="import_template"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.xlsx", import_views.import_errors, name="import_errors"),
    path("audit/", registry_views.audit_log, name="audit_log"),
    path("dispatch/", include("epidispatch.dispatch.urls")),
    path("dispatch/bulletins/", include("epidispatch.dispatch.bulletin_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change_form.html"),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("health/", views.health, name="health"),
    path("field/", include("epidispatch.fieldwork.urls")),
    path("control/", include("epidispatch.control.urls")),
    path("inspection/", include("epidispatch.inspection.urls")),
    path("accountability/", include("epidispatch.accountability.urls")),
    path("meetings/", include("epidispatch.meetings.urls")),
    path("certificates/", include("epidispatch.certificates.urls")),
    path(".well-known/epidispatch-keys.json", certificate_views.keys_json, name="keys_json"),
    path("supply/", include("epidispatch.supply.urls")),
    path("screening/", include("epidispatch.screening.urls")),
    path("sites/", include("epidispatch.sites.urls")),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
