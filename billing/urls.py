from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("history/", views.history, name="history"),
    path("history/statement.csv", views.statement, name="statement"),
    path("favourites/", views.favourites, name="favourites"),
    path("favourites/<int:pk>/", views.favourite_use, name="favourite_use"),
    path("favourites/<int:pk>/rename/", views.favourite_edit, name="favourite_edit"),
    path("favourites/<int:pk>/delete/", views.favourite_delete, name="favourite_delete"),
    path("receipt/<str:code>/", views.receipt, name="receipt"),
    path("shared/<str:token>/", views.receipt_shared, name="receipt_shared"),
    path("receipt/<str:code>/favourite/", views.favourite_add, name="favourite_add"),
    path("<slug:slug>/", views.pay, name="pay"),
    path("<slug:slug>/confirm/", views.confirm, name="confirm"),
]
