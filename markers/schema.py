"""Column names and fixed vocabularies of markers' tidy tables.

Every module refers to columns through these constants, so the schema is
written down once. The README's "Tidy output" section documents the same
columns for users.
"""

from __future__ import annotations

# -- tidy measurements: one row per (patient, sample, analyte) -----------------
PATIENT_ID = "patient_id"
SAMPLE_DATE = "sample_date"  # datetime64[ns], midnight; written as ISO date
ANALYTE = "analyte"  # canonical code: VMA, HVA, DA, 3MT, NE, E, NMN, MN
VALUE = "value"  # float, in UNIT (censored: the limit given, see CENSOR)
UNIT = "unit"  # "mg/g creatinine" or "mmol/mol creatinine"
CENSOR = "censor"  # "<", ">" or "" (<= and >= are kept as < and > with CENSOR_INCLUSIVE)
CENSOR_INCLUSIVE = "censor_inclusive"  # True for "<=" / ">="
SOURCE_VALUE = "source_value"  # the cell as written, text
SOURCE_UNIT = "source_unit"  # the unit as written, text
SOURCE_FILE = "source_file"
SOURCE_SHEET = "source_sheet"  # "" for CSV/TXT files
SOURCE_CELL = "source_cell"  # "D14"
SOURCE_ROW = "source_row"  # 1-based row number in the sheet/file
CREATININE = "creatinine_mmol_l"  # urine creatinine when given, mmol/L, else NaN
SEX = "sex"  # "M", "F" or ""
DATE_OF_BIRTH = "date_of_birth"
AGE_DAYS = "age_days"  # age at sample in completed days (Int64, <NA> if unknown)
DILUTE = "dilute"  # bool: creatinine below the dilute-urine threshold
REPORTED_ULN = "reported_uln"  # the reporting lab's own upper limit, in UNIT (NaN when not given)
DAYS_SINCE_DIAGNOSIS = "days_since_diagnosis"  # as given by a date-free source (Int64, <NA> otherwise)
EVENT_DAY = "event_day"  # therapy table of a date-free source: the event's days since diagnosis

MEASUREMENT_COLUMNS = [
    PATIENT_ID,
    SAMPLE_DATE,
    ANALYTE,
    VALUE,
    UNIT,
    CENSOR,
    CENSOR_INCLUSIVE,
    SOURCE_VALUE,
    SOURCE_UNIT,
    SOURCE_FILE,
    SOURCE_SHEET,
    SOURCE_CELL,
    SOURCE_ROW,
    CREATININE,
    DILUTE,
    SEX,
    DATE_OF_BIRTH,
    AGE_DAYS,
    REPORTED_ULN,
    DAYS_SINCE_DIAGNOSIS,
]

# -- columns added by flagging (markers.analysis.flags) ----------------------------------
ULN = "uln"  # upper reference limit, in UNIT
X_ULN = "x_uln"  # value / uln
ELEVATED = "elevated"  # boolean (pandas "boolean" dtype: <NA> when indeterminate)
GRADE = "grade"  # one of GRADES
REFERENCE_SET = "reference_set"
GRADES = ("normal", "mild", "moderate", "marked", "indeterminate", "no_reference")

# -- columns added by the timeline (markers.analysis.timeline) ---------------------------
DAY = "day"  # days since diagnosis (or since therapy start when no diagnosis)
PHASE = "phase"

# -- patients table ---------------------------------------------------------------
DIAGNOSIS_DATE = "diagnosis_date"
AGE_AT_DIAGNOSIS_DAYS = "age_at_diagnosis_days"
PATIENT_COLUMNS = [
    PATIENT_ID,
    SEX,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    AGE_AT_DIAGNOSIS_DAYS,
    SOURCE_FILE,
    SOURCE_SHEET,
    SOURCE_CELL,
]

# -- therapy events table ---------------------------------------------------------
EVENT = "event"  # canonical event code, one of EVENTS
EVENT_LABEL = "event_label"  # the text as written
EVENT_DATE = "event_date"
THERAPY_COLUMNS = [
    PATIENT_ID,
    EVENT,
    EVENT_LABEL,
    EVENT_DATE,
    SOURCE_FILE,
    SOURCE_SHEET,
    SOURCE_CELL,
]

#: Canonical therapy events, in their usual order on a timeline.
EVENTS = (
    "diagnosis",
    "therapy_start",
    "surgery",
    "end_of_induction",
    "consolidation",
    "radiotherapy",
    "maintenance",
    "end_of_therapy",
    "complete_remission",
    "relapse",
    "progression",
    "second_malignancy",
    "death",
    "last_follow_up",
)

# -- outcome columns a patients sheet may carry (markers.analysis.outcomes) ----------------
EFS_DAYS = "efs_days"  # days from diagnosis to the first event or to last follow-up
EFS_EVENT = "efs_event"  # boolean: EFS_DAYS ends in an event
OS_DAYS = "os_days"  # days from diagnosis to death or to last follow-up
OS_EVENT = "os_event"  # boolean: OS_DAYS ends in death
VITAL_STATUS = "vital_status"  # "alive", "dead" or ""
FIRST_EVENT = "first_event"  # event code of the first event (relapse, progression, second_malignancy, death) or ""
STAGE = "stage"  # the stage as written (e.g. INSS 4, INRG M)
MYCN = "mycn"  # "amplified", "not amplified" or ""
OUTCOME_COLUMNS = [EFS_DAYS, EFS_EVENT, OS_DAYS, OS_EVENT, VITAL_STATUS, FIRST_EVENT, STAGE, MYCN]

# -- output units -------------------------------------------------------------------
MASS_RATIO = "mg/g creatinine"
MOLAR_RATIO = "mmol/mol creatinine"
OUTPUT_UNITS = {"mg/g": MASS_RATIO, "mmol/mol": MOLAR_RATIO}

#: Canonical analyte codes, in display order.
ANALYTES = ("VMA", "HVA", "DA", "3MT", "NE", "E", "NMN", "MN")

# -- issue records (markers.ingest.issues) -------------------------------------------------
ISSUE_COLUMNS = [
    "code",
    "severity",
    "file",
    "sheet",
    "cell",
    "row",
    "column",
    "value",
    "message",
    "hint",
]

