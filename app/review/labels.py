"""Words of the review domain stored as codes: its project tabs, and the reasons TuneDesk itself
writes when it returns an example (stored as a code, translated when shown)."""

from app.i18n import N_

MY_EXAMPLES_TAB = N_("My examples")
REVIEW_TAB = N_("Review")
VERSIONS_TAB = N_("Versions")

# Reasons written by TuneDesk, not by a reviewer: ``ReviewDecision.reason_code`` → text.
CONFLICT_KEPT_OTHER = "conflict_kept_other"
SYSTEM_REASONS = {
    CONFLICT_KEPT_OTHER: N_(
        "Another example (#%(id)s) asks the same thing with a different answer, and the "
        "reviewer kept that answer. Make this one consistent with it, or delete it."
    ),
}
