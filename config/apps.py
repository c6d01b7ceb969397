from django.contrib.admin.apps import AdminConfig


class KapchykAdminConfig(AdminConfig):
    """django.contrib.admin with the Kapchyk site (staff, second factor) as admin.site."""

    default_site = "config.admin.KapchykAdminSite"
