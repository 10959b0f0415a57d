"""Forms more than one account page uses."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button only: the CSRF token is the whole form."""
