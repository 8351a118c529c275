"""django-fsm's optimistic locking, with each model's state fields found once per model."""

from typing import Any

from django_fsm import ConcurrentTransitionMixin, FSMFieldMixin


class ConcurrentStates(ConcurrentTransitionMixin):
    """ConcurrentTransitionMixin (a save fails when the row's state changed since it was read),
    whose search for the state fields among all of a model's fields ran for every row built: a
    dashboard builds hundreds. The fields are found once per model."""

    @property
    def state_fields(self) -> Any:
        model = type(self)
        found = model.__dict__.get("_state_fields_found")
        if found is None:
            found = tuple(field for field in self._meta.fields if isinstance(field, FSMFieldMixin))  # type: ignore[attr-defined]
            model._state_fields_found = found  # type: ignore[attr-defined]
        return found
