"""Names of the review domain's project tabs (kept here so their translations live in the review
catalog; ``app/projects/nav.py`` lists them)."""

from app.i18n import N_

MY_EXAMPLES_TAB = N_("My examples")
REVIEW_TAB = N_("Review")
VERSIONS_TAB = N_("Versions")
