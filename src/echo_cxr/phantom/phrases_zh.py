"""Chinese phrasebook of the phantom reports (same structure and purpose as ``phrases_en``).

Paraphrases differ in wording and in where the side / severity / finding sit in the sentence.
Sentences are joined without spaces; the report reads ``所见：{findings} 结论：{impression}``.
"""

from __future__ import annotations

NORMAL: dict[str, tuple[str, ...]] = {
    "thorax": (
        "胸廓对称，未见气胸征象。",
        "双侧胸廓对称，胸膜腔内未见气胸。",
        "未见气胸，胸廓形态对称。",
    ),
    "mediastinum": (
        "气管居中，纵隔未见增宽。",
        "纵隔形态正常，气管位置居中。",
        "纵隔无增宽，气管居中。",
    ),
    "lungs": (
        "双肺野清晰，未见实变、结节或水肿。",
        "两肺纹理清晰，未见明确实变影。",
        "双肺透亮度正常，未见异常密度影。",
    ),
    "heart": (
        "心影大小及形态正常。",
        "心脏大小在正常范围内。",
        "心影形态、大小未见异常。",
    ),
    "hila": (
        "双侧肺门影大小、位置正常。",
        "两侧肺门结构清晰，未见增大。",
        "肺门影未见异常。",
    ),
    "diaphragm": (
        "双侧膈面光滑，肋膈角锐利。",
        "两侧肋膈角锐利，未见胸腔积液。",
        "膈肌位置正常，双侧肋膈角清晰。",
    ),
    "bones": (
        "骨性胸廓完整，未见骨折。",
        "所见骨质结构未见明显异常。",
        "肋骨及锁骨未见骨折征象。",
    ),
}

FINDING: dict[str, tuple[str, ...]] = {
    "pneumothorax": (
        "{side}侧可见{sev}气胸，可见脏层胸膜线。",
        "{side}侧胸腔{sev}气胸。",
        "可见{sev}气胸，位于{side}侧胸腔。",
    ),
    "tracheal_deviation": (
        "气管向{side}侧偏移。",
        "纵隔轮廓尚可，气管向{side}侧偏移。",
        "可见气管向{side}侧移位。",
    ),
    "consolidation": (
        "{zone}可见斑片状实变影。",
        "实变影位于{zone}。",
        "{zone}见片状实变，边界模糊。",
    ),
    "nodule": (
        "{zone}可见一{lesion}，边缘清楚。",
        "一枚{lesion}位于{zone}，边界清晰。",
        "于{zone}见{lesion}。",
    ),
    "atelectasis": (
        "{side}肺底可见盘状肺不张。",
        "{side}下肺见线状肺不张。",
        "盘状肺不张，位于{side}肺底。",
    ),
    "pulmonary_edema": (
        "双肺门周围模糊影，提示{sev}肺水肿。",
        "{sev}肺水肿，双肺纹理模糊。",
        "可见{sev}间质性肺水肿改变。",
    ),
    "cardiomegaly": (
        "心影{sev}增大。",
        "{sev}心脏增大。",
        "可见心影增大，程度为{sev}。",
    ),
    "hilar_enlargement": (
        "{side}肺门影增大。",
        "{side}侧肺门增大，呈分叶状。",
        "肺门影增大，位于{side}侧。",
    ),
    "hilar_enlargement/bilateral": (
        "双侧肺门影增大。",
        "两侧肺门均增大。",
        "可见双侧分叶状肺门增大。",
    ),
    "pleural_effusion": (
        "{side}侧{sev}胸腔积液，{side}肋膈角变钝。",
        "{side}侧胸腔可见{sev}积液。",
        "可见{sev}胸腔积液，位于{side}侧。",
    ),
    "pleural_effusion/bilateral": (
        "双侧{sev}胸腔积液。",
        "双侧胸腔可见{sev}积液，双侧肋膈角变钝。",
        "可见{sev}胸腔积液，累及双侧。",
    ),
    "elevated_hemidiaphragm": (
        "{side}侧膈肌抬高。",
        "膈肌抬高，位于{side}侧。",
        "可见{side}侧膈肌位置抬高。",
    ),
    "rib_fracture": (
        "{side}侧肋骨骨折。",
        "{side}侧肋骨可见骨折线，断端错位。",
        "可见{side}侧一根肋骨骨折。",
    ),
    "endotracheal_tube": (
        "气管插管在位，尖端位于隆突上方。",
        "可见气管插管，管尖位于隆突上方。",
        "隆突上方可见气管插管末端。",
    ),
    "nasogastric_tube": (
        "鼻胃管经食管进入胃内。",
        "可见胃管，尖端位于胃内。",
        "胃内可见鼻胃管末端。",
    ),
    "central_venous_catheter": (
        "经{side}侧置入中心静脉导管，尖端位于上腔静脉。",
        "中心静脉导管经{side}侧置入，位置合适。",
        "可见{side}侧中心静脉置管，末端位于上腔静脉。",
    ),
    "pacemaker": (
        "{side}侧胸壁起搏器，导线位于心影内。",
        "可见{side}侧起搏器，导线走行正常。",
        "起搏器位于{side}侧胸壁，导线在位。",
    ),
}

IMPRESSION: dict[str, tuple[str, ...]] = {
    "pneumothorax": ("{side}侧{sev}气胸。", "{side}侧气胸，{sev}。"),
    "tracheal_deviation": ("气管{side}偏。", "偏向{side}侧的气管移位。"),
    "consolidation": ("{zone}实变。", "实变，位于{zone}。"),
    "nodule": ("{zone}{lesion}。", "{lesion}，位于{zone}。"),
    "atelectasis": ("{side}肺底肺不张。", "肺不张（{side}肺底）。"),
    "pulmonary_edema": ("{sev}肺水肿。", "肺水肿，{sev}。"),
    "cardiomegaly": ("心影{sev}增大。", "心脏增大，{sev}。"),
    "hilar_enlargement": ("{side}肺门增大。", "肺门增大（{side}侧）。"),
    "hilar_enlargement/bilateral": ("双侧肺门增大。", "累及双侧的肺门影增大。"),
    "pleural_effusion": ("{side}侧{sev}胸腔积液。", "{sev}胸腔积液（{side}侧）。"),
    "pleural_effusion/bilateral": ("双侧{sev}胸腔积液。", "双侧胸腔积液，{sev}。"),
    "elevated_hemidiaphragm": ("{side}侧膈肌抬高。", "膈肌抬高（{side}侧）。"),
    "rib_fracture": ("{side}侧肋骨骨折。", "肋骨骨折（{side}侧）。"),
    "endotracheal_tube": ("气管插管位置合适。", "位置合适的气管插管。"),
    "nasogastric_tube": ("胃管在位。", "位置正常的鼻胃管。"),
    "central_venous_catheter": ("{side}侧中心静脉导管在位。", "中心静脉导管在位（{side}侧）。"),
    "pacemaker": ("{side}侧起搏器在位。", "起搏器（{side}侧胸壁）。"),
}

NO_ACUTE: tuple[str, ...] = (
    "心肺未见明显异常。",
    "胸部未见急性病变。",
    "胸片未见异常。",
    "心肺膈未见异常。",
)

SLOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "side": {"left": ("左",), "right": ("右",), "bilateral": ("双",)},
    "sev": {"small": ("少量",), "moderate": ("中等量", "中量"), "large": ("大量",),
            "mild": ("轻度",), "marked": ("重度", "明显")},
    "sevly": {"mild": ("轻度",), "moderate": ("中度",), "marked": ("重度",)},
    "zone": {"right_upper": ("右肺上野", "右上肺野"), "right_middle": ("右肺中野", "右中肺野"),
             "right_lower": ("右肺下野", "右下肺野"), "left_upper": ("左肺上野", "左上肺野"),
             "left_lower": ("左肺下野", "左下肺野")},
    "lesion": {"small": ("小结节", "结节影"), "large": ("肿块", "肿块影")},
}

# "moderate" means 中等量 for fluid and 中度 for edema / heart size: finding-specific overrides.
SEVERITY_OVERRIDES: dict[str, dict[str, tuple[str, ...]]] = {
    "pulmonary_edema": {"moderate": ("中度",)},
    "cardiomegaly": {"moderate": ("中度",)},
}

SENTENCE_JOIN = ""
