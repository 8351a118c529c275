"""The lifecycle's states, apart from the models so that rules and forms can name them freely."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    MONITORING = "monitoring", _("监测")
    ASSESSING = "assessing", _("研判")
    WARNING = "warning", _("预警")
    RESPONDING = "responding", _("处置")
    TRACKING = "tracking", _("跟踪")
    REVIEWING = "reviewing", _("总结")
    ARCHIVED = "archived", _("已归档")
    DISMISSED = "dismissed", _("已排除")


OPEN_STATES = (State.MONITORING, State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING, State.REVIEWING)
CLOSED_STATES = (State.ARCHIVED, State.DISMISSED)
LEVEL_CHANGE_STATES = (State.WARNING, State.RESPONDING, State.TRACKING)
HANDLING_STATES = (State.WARNING, State.RESPONDING, State.TRACKING)
ASSESSMENT_STATES = (State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING)
STATEMENT_STATES = (State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING)
# The plan's clocks are planned and re-planned only while the incident is being handled; from
# 总结 on, nothing new starts counting.
CLOCK_STATES = (State.MONITORING, State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING)
