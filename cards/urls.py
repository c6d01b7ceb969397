from django.urls import path

from . import views

app_name = "cards"
urlpatterns = [
    path("", views.card_list, name="list"),
    path("add/", views.card_add, name="add"),
    path("<int:pk>/confirm/", views.card_confirm, name="confirm"),
    path("<int:pk>/remove/", views.card_remove, name="remove"),
    path("topup/", views.topup, name="topup"),
    path("topup/confirm/", views.topup_confirm, name="topup_confirm"),
    path("topup/<int:pk>/", views.topup_receipt, name="topup_receipt"),
]
