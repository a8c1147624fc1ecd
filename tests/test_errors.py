"""The one base of errors meant for a person: its text, and that the refusals of the core share it."""

from portal.core.accounts import AccountError
from portal.core.errors import UserFacingError
from portal.core.keys import KeyRequestError
from portal.core.providers import errors
from portal.core.services.activity import ActivityFilterError
from portal.core.services.analytics import SprintDatesMissing
from portal.core.services.connections import ConnectionInputError
from portal.core.services.resolve import ResolveError
from portal.core.tracker.service import InvalidTrackerInput, TrackerNotFound
from portal.core.vault import CredentialsUnreadable


def test_the_message_and_what_to_do_read_as_one_text():
    error = UserFacingError("The key has expired.", hint="Create a new one under Keys.")
    assert str(error) == "The key has expired. Create a new one under Keys."
    assert error.message == "The key has expired."
    assert error.error_class == "invalid_arguments"
    assert str(UserFacingError("Nothing to add.")) == "Nothing to add."


def test_each_refusal_keeps_its_stable_class_name():
    assert errors.NotFound("gone").error_class == "not_found" == errors.NotFound.kind
    assert errors.TimedOut("slow").error_class == "timed_out"
    assert TrackerNotFound("No task.").error_class == "not_found"
    assert CredentialsUnreadable().error_class == "credentials_unreadable"
    assert ResolveError("No such ref.", error_class="ambiguous_ref").error_class == "ambiguous_ref"


def test_the_refusals_of_the_core_are_user_facing_errors():
    refusals = [
        errors.InvalidInput("refused", field_errors={"title": "too long"}),
        TrackerNotFound("No task."),
        InvalidTrackerInput({"name": "Enter a name."}),
        AccountError("email", "Enter an email address."),
        KeyRequestError("That name is taken."),
        ActivityFilterError("period", "Use 24h, 7d or 30d."),
        SprintDatesMissing("Sprint 'A' has no dates."),
        ConnectionInputError({"url": "Enter a URL."}),
        ResolveError("No such ref."),
        CredentialsUnreadable(),
    ]
    for refusal in refusals:
        assert isinstance(refusal, UserFacingError), type(refusal)
        assert str(refusal)  # something to show
    assert str(refusals[0]) == "refused (title: too long)"
    assert str(refusals[2]) == "name: Enter a name."
    assert refusals[3].field == "email" and str(refusals[3]) == "Enter an email address."
