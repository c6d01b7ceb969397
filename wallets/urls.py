from django.urls import path

from . import device_views, pwa, views

app_name = "wallets"
urlpatterns = [
    path("", views.index, name="index"),
    path("cabinet/", views.home, name="home"),
    path("cabinet/history/", views.history_page, name="history"),
    path("cabinet/history/statement.csv", views.statement, name="statement"),
    path("cabinet/topup/", views.topup_ways, name="topup"),
    path("cabinet/security/", views.security, name="security"),
    path("cabinet/security/devices/add/", device_views.device_add, name="device_add"),
    path(
        "cabinet/security/devices/<int:pk>/remove/",
        device_views.device_remove,
        name="device_remove",
    ),
    path("cabinet/security/pin/", device_views.pin_change, name="pin_change"),
    path("offer/", views.offer, name="offer"),
    path("limits/", views.limits_page, name="limits"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
]
