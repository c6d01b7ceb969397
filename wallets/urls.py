from django.urls import path

from . import pwa, views

app_name = "wallets"
urlpatterns = [
    path("", views.index, name="index"),
    path("cabinet/", views.home, name="home"),
    path("cabinet/history/", views.history_page, name="history"),
    path("cabinet/history/statement.csv", views.statement, name="statement"),
    path("cabinet/topup/", views.topup_ways, name="topup"),
    path("cabinet/security/", views.security, name="security"),
    path("offer/", views.offer, name="offer"),
    path("limits/", views.limits_page, name="limits"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
]
