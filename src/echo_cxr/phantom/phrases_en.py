"""English phrasebook of the phantom reports: a finite vocabulary, many valid reports per study.

Each statement has several paraphrases that differ in wording and in word order (where the
finding, the side and the severity sit in the sentence). That spread is deliberate: a decoder
that commits all tokens of a block at once mixes the beginning of one paraphrase with the end of
another (the mean-field failure of METHOD.md section 4, stage 3). ``{slot}`` fields are filled
from the label (see ``reports.py``); slot values may themselves have alternatives.
"""

from __future__ import annotations

NORMAL: dict[str, tuple[str, ...]] = {
    "thorax": (
        "The thorax is symmetric and there is no evidence of pneumothorax.",
        "No pneumothorax is seen, and the thoracic cage is symmetric.",
        "Both hemithoraces are symmetric in size, without any pneumothorax.",
        "There is no pneumothorax and the chest wall contour is symmetric.",
    ),
    "mediastinum": (
        "The trachea is midline and the mediastinal contours are normal.",
        "Mediastinal contours are within normal limits, with a midline trachea.",
        "There is no mediastinal widening, and the trachea is central.",
    ),
    "lungs": (
        "The lungs are clear without focal consolidation, nodule or edema.",
        "Both lung fields are clear, with no focal airspace opacity seen.",
        "No focal consolidation, mass or pulmonary edema is seen.",
        "The lung fields are well expanded and clear bilaterally.",
    ),
    "heart": (
        "The cardiac silhouette is normal in size and contour.",
        "Heart size is within normal limits, with a normal cardiac contour.",
        "Normal size and configuration of the cardiac silhouette are seen.",
    ),
    "hila": (
        "The hila are normal in size, density and position.",
        "Both hilar regions appear unremarkable in size and density.",
        "No hilar enlargement or hilar mass is seen on either side.",
    ),
    "diaphragm": (
        "The hemidiaphragms are smooth and the costophrenic angles are sharp.",
        "Both costophrenic angles are clear, with no pleural effusion.",
        "There is no pleural effusion, and the diaphragm is normally positioned.",
    ),
    "bones": (
        "The visualized osseous structures are intact without acute fracture.",
        "No acute rib fracture or other bony abnormality is identified.",
        "Bony structures of the chest show no acute abnormality.",
    ),
}

FINDING: dict[str, tuple[str, ...]] = {
    "pneumothorax": (
        "There is a {sev} {side} pneumothorax with a visible pleural line.",
        "A {sev} pneumothorax is present on the {side} side.",
        "On the {side}, a {sev} pneumothorax is seen along the lateral chest wall.",
    ),
    "tracheal_deviation": (
        "The trachea is deviated to the {side}, with otherwise normal mediastinal contours.",
        "There is {side}ward deviation of the trachea.",
        "Deviation of the trachea toward the {side} is noted.",
    ),
    "consolidation": (
        "There is a focal consolidation in the {zone}.",
        "Patchy consolidation is seen in the {zlevel} zone of the {zside} lung.",
        "In the {zone}, there is airspace consolidation.",
    ),
    "nodule": (
        "A well-defined {lesion} is seen in the {zone}.",
        "A {lesion} projects over the {zlevel} zone of the {zside} lung.",
        "In the {zone}, a rounded {lesion} is present.",
    ),
    "atelectasis": (
        "Linear atelectasis is present at the {side} lung base.",
        "There is plate-like atelectasis in the {side} base.",
        "At the {side} base, there is subsegmental atelectasis.",
    ),
    "pulmonary_edema": (
        "There is {sev} pulmonary edema with perihilar haziness.",
        "{sev} interstitial edema is seen in both lungs.",
        "Perihilar haziness and vascular indistinctness indicate {sev} pulmonary edema.",
    ),
    "cardiomegaly": (
        "The cardiac silhouette is {sevly} enlarged, with a widened cardiothoracic ratio.",
        "There is {sev} cardiomegaly with an increased cardiothoracic ratio.",
        "{sev} enlargement of the cardiac silhouette is noted.",
    ),
    "hilar_enlargement": (
        "The {side} hilum is enlarged and lobulated.",
        "There is enlargement of the {side} hilum.",
        "An enlarged {side} hilum is seen, with increased density.",
    ),
    "hilar_enlargement/bilateral": (
        "Both hila are enlarged and lobulated in contour.",
        "There is bilateral hilar enlargement with lobulated contours.",
        "Lobulated enlargement of the hila is seen bilaterally.",
    ),
    "pleural_effusion": (
        "There is a {sev} {side} pleural effusion blunting the costophrenic angle.",
        "A {sev} pleural effusion is present on the {side}.",
        "On the {side}, the costophrenic angle is blunted by a {sev} pleural effusion.",
    ),
    "pleural_effusion/bilateral": (
        "There are {sev} bilateral pleural effusions blunting both angles.",
        "{sev} pleural effusions are present on both sides.",
        "Both costophrenic angles are blunted by {sev} pleural effusions.",
    ),
    "elevated_hemidiaphragm": (
        "The {side} hemidiaphragm is elevated above its usual position.",
        "There is elevation of the {side} hemidiaphragm.",
        "An elevated {side} hemidiaphragm is noted, with reduced lung volume.",
    ),
    "rib_fracture": (
        "There is an acute fracture of a {side} lateral rib.",
        "A displaced {side} rib fracture is seen.",
        "On the {side}, a lateral rib fracture is noted.",
    ),
    "endotracheal_tube": (
        "An endotracheal tube is in place, tip above the carina.",
        "The endotracheal tube terminates above the carina.",
        "Above the carina lies the tip of the endotracheal tube.",
    ),
    "nasogastric_tube": (
        "A nasogastric tube courses below the diaphragm into the stomach.",
        "The nasogastric tube tip projects over the stomach.",
        "Below the diaphragm, a nasogastric tube ends in the stomach.",
    ),
    "central_venous_catheter": (
        "A {side} central venous catheter terminates in the superior vena cava.",
        "From the {side}, a central venous catheter reaches the cavoatrial junction.",
        "There is a {side}-sided central line in satisfactory position.",
    ),
    "pacemaker": (
        "A {side}-sided pacemaker is present with leads over the heart.",
        "There is a {side} chest wall pacemaker with intact leads.",
        "A pacing device overlies the {side} chest, leads in place.",
    ),
}

IMPRESSION: dict[str, tuple[str, ...]] = {
    "pneumothorax": ("{sev} {side} pneumothorax.", "{side}-sided pneumothorax, {sev}."),
    "tracheal_deviation": ("Tracheal deviation to the {side}.", "{side}ward tracheal deviation."),
    "consolidation": ("Consolidation in the {zone}.", "{zone} consolidation."),
    "nodule": ("{lesion} in the {zone}.", "{zone} {lesion}."),
    "atelectasis": ("{side} basal atelectasis.", "Atelectasis at the {side} base."),
    "pulmonary_edema": ("{sev} pulmonary edema.", "Pulmonary edema, {sev}."),
    "cardiomegaly": ("{sev} cardiomegaly.", "Cardiomegaly, {sev}.", "{sevly} enlarged heart."),
    "hilar_enlargement": ("{side} hilar enlargement.", "Enlarged {side} hilum."),
    "hilar_enlargement/bilateral": ("Bilateral hilar enlargement.", "Hila enlarged bilaterally."),
    "pleural_effusion": ("{sev} {side} pleural effusion.", "{side} pleural effusion, {sev}."),
    "pleural_effusion/bilateral": ("{sev} bilateral pleural effusions.",
                                   "Bilateral pleural effusions, {sev}."),
    "elevated_hemidiaphragm": ("Elevated {side} hemidiaphragm.",
                               "{side} hemidiaphragm elevation."),
    "rib_fracture": ("{side} rib fracture.", "Fracture of a {side} rib."),
    "endotracheal_tube": ("Endotracheal tube in satisfactory position.",
                          "Appropriately positioned endotracheal tube."),
    "nasogastric_tube": ("Nasogastric tube in the stomach.",
                         "Gastric placement of nasogastric tube."),
    "central_venous_catheter": ("{side} central line in place.",
                                "Satisfactory {side} central venous catheter."),
    "pacemaker": ("{side}-sided pacemaker in place.", "Pacemaker in the {side} chest wall."),
}

NO_ACUTE: tuple[str, ...] = (
    "No acute cardiopulmonary abnormality.",
    "No acute cardiopulmonary process.",
    "Normal chest radiograph.",
    "No acute abnormality of the chest.",
)

# Slot vocabularies: slot -> attribute value -> alternatives.
SLOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "side": {"left": ("left",), "right": ("right",), "bilateral": ("bilateral",)},
    "sev": {"small": ("small",), "moderate": ("moderate",), "large": ("large",),
            "mild": ("mild",), "marked": ("marked", "severe")},
    "sevly": {"mild": ("mildly",), "moderate": ("moderately",), "marked": ("markedly", "severely")},
    "zone": {"right_upper": ("right upper zone", "right upper lung zone"),
             "right_middle": ("right middle zone", "right mid zone"),
             "right_lower": ("right lower zone", "right lower lung zone"),
             "left_upper": ("left upper zone", "left upper lung zone"),
             "left_lower": ("left lower zone", "left lower lung zone")},
    "zside": {z: (z.split("_")[0],) for z in
              ("right_upper", "right_middle", "right_lower", "left_upper", "left_lower")},
    "zlevel": {"right_upper": ("upper",), "right_middle": ("middle", "mid"),
               "right_lower": ("lower",), "left_upper": ("upper",), "left_lower": ("lower",)},
    "lesion": {"small": ("small nodule", "nodule"), "large": ("mass", "large mass")},
}

SENTENCE_JOIN = " "
