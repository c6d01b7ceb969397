from django.urls import path

from . import views

app_name = "qr"
urlpatterns = [
    path("", views.scan, name="scan"),
    path("pay/", views.pay, name="pay"),
    path("confirm/", views.confirm, name="confirm"),
    path("receipt/<str:code>/", views.receipt, name="receipt"),
    path("cashier/<int:pk>/", views.cashier, name="cashier"),
    path("cashier/<int:pk>/code/<str:code>/", views.dynamic, name="dynamic"),
    path("cashier/<int:pk>/statement.csv", views.statement, name="statement"),
    path("merchants/<int:pk>/sticker/", views.sticker, name="sticker"),
    path("merchants/<int:pk>/sticker.png", views.sticker_png, name="sticker_png"),
]
