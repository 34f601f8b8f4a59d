"""Word lists for synthetic demo people and referrals.

Every person is a random pairing of a given name and a family name from these lists; nobody is
modelled on a real client or clinician. Referral reasons are written for the demo, in the plain words
a referral letter or a self-referral form would use.
"""

from __future__ import annotations

GIVEN_NAMES = (
    "Aisha", "Alexandra", "Amara", "Ben", "Callum", "Chloe", "Daniel", "Dominika", "Eleanor", "Elliot",
    "Farah", "Finn", "Gabriel", "Grace", "Hamza", "Hannah", "Isla", "Jacob", "Jasmine", "Joseph",
    "Kai", "Katherine", "Leah", "Lewis", "Maya", "Mohammed", "Nathaniel", "Niamh", "Oliver", "Olivia",
    "Priya", "Rhys", "Rosa", "Samuel", "Sofia", "Tariq", "Theo", "Yasmin", "Zara", "Zoltan",
)  # fmt: skip

FAMILY_NAMES = (
    "Ashdown", "Bancroft", "Bellamy", "Brightwell", "Carrow", "Delacourt", "Elsworth", "Fairbairn",
    "Garside", "Hallam", "Hartigan", "Ingleby", "Kestrel", "Lindqvist", "Marchetti", "Mayhew", "Nakamura",
    "Okonjo", "Pennant", "Quarry", "Radcliffe", "Rowntree", "Salcedo", "Sherwood", "Tremayne", "Thackeray",
    "Underhill", "Varga", "Wexford", "Whitlock", "Yardley", "Zelinski",
)  # fmt: skip

# The short form some people prefer; used for a few clients so the preferred-name field is exercised.
PREFERRED_NAMES = {
    "Alexandra": "Alex",
    "Katherine": "Kate",
    "Nathaniel": "Nate",
    "Samuel": "Sam",
    "Dominika": "Nika",
}

INDIVIDUAL_REASONS = (
    "Low mood and withdrawal from friends since a redundancy",
    "Panic attacks on public transport, now avoiding the commute",
    "Persistent worry about health and family, poor sleep",
    "Grief after the death of a parent last year",
    "Low self-worth and harsh self-criticism at work",
    "Anxiety in social situations, avoiding meetings",
    "Recurring relationship difficulties; wants to understand a pattern",
    "Stress and exhaustion after a period of caring for a relative",
    "Anger outbursts at home, worried about the effect on the children",
    "Low mood after the birth of a second child",
    "Difficulty settling after a move abroad; loneliness",
    "Intrusive memories of a road traffic accident",
    "Perfectionism and burnout during postgraduate study",
    "Feeling numb and disconnected since a relationship ended",
    "Body image concerns and restrictive eating in the past",
    "Long-standing low mood; previous medication helped only partly",
    "Difficulty trusting others after an abusive relationship",
    "Work-related stress; signed off for four weeks by GP",
    "Obsessive checking that takes hours each day",
    "Shame and secrecy about drinking in the evenings",
)  # fmt: skip

COUPLE_REASONS = (
    "Recurring arguments and loss of closeness since the children were born",
    "Rebuilding trust in the relationship after an affair",
    "Communication breaking down under financial pressure",
)

FAMILY_REASONS = (
    "School refusal and conflict at home; parents and young person attend",
    "Family tension after a separation; young person withdrawn",
)

STAFF = {
    # role key -> (full name, email local part); the demo's fixed cast.
    "admin": ("Morgan Ellery", "admin"),
    "supervisor": ("Dr Imogen Thorne", "supervisor"),
    "therapist": ("Nadia Brennan", "therapist"),
    "colleague_1": ("Tomasz Wren", "therapist2"),
    "colleague_2": ("Ruth Calloway", "therapist3"),
}

# Short synthetic notes for the demo therapist's counter-transference check-ins (no real session).
CHECK_IN_NOTES = (
    "Noticed I wanted to reassure rather than stay with the worry.",
    "Felt warm towards them today; the homework had clearly mattered.",
    "Talked more than usual; worth slowing down next time.",
    "A lighter session. Curious whether that was avoidance or relief.",
    "Felt protective when the family came up; check that in supervision.",
)
HARD_CHECK_IN_NOTES = (
    "They said the sessions were not helping; I felt criticised and went quiet. Name it next time.",
    "Found myself defending the plan instead of asking what felt wrong. Possible rupture: come back to it.",
    "Felt shut out and a bit useless; they looked at the clock a lot. Raise how the work is going.",
)
