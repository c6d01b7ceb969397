from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("", views.start, name="start"),
    path("number/", views.by_number, name="by_number"),
    path("number/confirm/", views.confirm, name="confirm"),
    path("qr/", views.by_qr, name="qr"),
    path("qr/next/", views.qr_next, name="qr_next"),
    path("my-qr/", views.my_qr, name="my_qr"),
    path("my-qr/qr.png", views.my_qr_png, name="my_qr_png"),
    path("my-qr/qr.svg", views.my_qr_svg, name="my_qr_svg"),
    path("receipt/<str:code>/", views.receipt, name="receipt"),
]
