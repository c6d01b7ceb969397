from django.urls import path

from . import views

app_name = "ussd"
urlpatterns = [
    path("", views.gateway, name="gateway"),
]
