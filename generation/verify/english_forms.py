"""English word forms the stemmer leaves apart, so that a claim's wording is matched to the sources' by meaning.

The Snowball stemmer maps "performed" to "perform" but leaves irregular verbs alone: "sang" is not "sing",
"began" not "begin". A claim that answers "What did Lady Gaga sing?" with "Lady Gaga sang the national
anthem" reuses the question's verb, and must not count "sang" as a word the sources lack. Ages are said two
ways: "38 years old" / "38-year-old" in an answer, "at age 38" in the sources.

Forms that are also common words of another meaning ("found", "left", "saw", "rose", "felt", "lay", "bore",
"ground", "wound", "spoke", "lit", "bit") are not mapped: mapping may only make a match easier, so an
ambiguous one would pass claims the sources do not support.
"""

from __future__ import annotations

import re

# base: its irregular past and past participle forms (regular ones are the stemmer's job).
_IRREGULAR = """
arise arose arisen | awake awoke awoken | be was were been | bear borne | beat beaten | become became |
begin began begun | bend bent | bind bound | bite bitten | bleed bled | blow blew blown | break broke broken |
breed bred | bring brought | build built | burn burnt | buy bought | catch caught | choose chose chosen |
cling clung | come came | creep crept | deal dealt | dig dug | do did done | draw drew drawn |
dream dreamt | drink drank drunk | drive drove driven | eat ate eaten | fall fell fallen | feed fed |
fight fought | flee fled | fling flung | fly flew flown | forbid forbade forbidden | forget forgot forgotten |
forgive forgave forgiven | freeze froze frozen | get got gotten | give gave given | go went gone |
grow grew grown | hang hung | have had | hear heard | hide hid hidden | hold held | keep kept |
know knew known | lead led | lean leant | leap leapt | lend lent | lose lost | make made | mean meant |
meet met | overcome overcame | oversee oversaw overseen | pay paid | ride rode ridden | ring rang rung |
rise risen | run ran | say said | see seen | seek sought | sell sold | send sent | shake shook shaken |
shine shone | shoot shot | shrink shrank shrunk | sing sang sung | sink sank sunk | sit sat | sleep slept |
slide slid | speak spoken | speed sped | spend spent | spin spun | spring sprang sprung | stand stood |
steal stole stolen | stick stuck | sting stung | strike struck stricken | strive strove striven |
swear swore sworn | sweep swept | swim swam swum | swing swung | take took taken | teach taught |
tear tore torn | tell told | think thought | throw threw thrown | understand understood |
undertake undertook undertaken | wake woke woken | wear wore worn | weave wove woven | weep wept |
win won | withdraw withdrew withdrawn | write wrote written
"""


def irregular_forms() -> dict[str, str]:
    """Each irregular form and its base form, lower-case ("sang" → "sing")."""
    forms: dict[str, str] = {}
    for entry in _IRREGULAR.split("|"):
        base, *inflected = entry.split()
        forms.update((form, base) for form in inflected)
    return forms


# "38 years old", "38-year-old", "38 year old" → "age 38" (how sources usually put it: "at age 38").
_AGE = re.compile(r"\b(\d+)(?:\s+|-)years?(?:\s+|-)old\b", re.IGNORECASE)


def ages_as_age(text: str) -> str:
    return _AGE.sub(r"age \1", text)
