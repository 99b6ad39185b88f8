from django.urls import path

from scarrx.portal import views

urlpatterns = [
    path("", views.today, name="portal-today"),
    path("log/", views.log, name="portal-log"),
    path("course/", views.course, name="portal-course"),
    path("course/status/", views.course_status, name="portal-course-status"),
    path("side-effect/", views.side_effect, name="portal-side-effect"),
    path("calendar/", views.calendar_page, name="portal-calendar"),
    # The private calendar feed: public, the unguessable token is the key.
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
