from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("", views.start, name="start"),
    path("number/", views.by_number, name="by_number"),
    path("number/confirm/", views.confirm, name="confirm"),
    path("receipt/<str:code>/", views.receipt, name="receipt"),
]
