"""Draw the shared exercise illustrations into static/exercises/.

Every picture is the same figure (round head, thick rounded limbs) posed from
joint coordinates, so the library reads as one consistent set. Poses are built
with forward and inverse kinematics from fixed segment lengths, so a limb can
never stretch or shrink between two panels by accident.

Conventions (figure space): x to the right, y up, the floor is y = 0, units are
roughly centimetres / 1.3. Figures face right; lying on the back the head is on
the left, lying face down the head is on the right. "Near" limbs are drawn in
the body colour on top, "far" limbs in a darker teal behind.

Run: .venv/bin/python tools/draw_exercises.py [--check]
"""

from __future__ import annotations

import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "static" / "exercises"
LIBRARY = ROOT / "exercises" / "library" / "exercises.toml"

# Colours -------------------------------------------------------------------
BODY = "#0f6e6e"
FAR = "#0a4747"
MOVE = "#5aa6a6"
BACKGROUND = "#f2f8f8"
FLOOR = "#c9dddd"
MAT = "#dcebeb"
PROP_FILL = "#e4efef"
PROP_LINE = "#8db6b6"
CHEVRON = "#b4cfcf"

# Canvas --------------------------------------------------------------------
WIDTH, HEIGHT = 320, 200
FLOOR_Y = 184  # where figure y = 0 lands on the canvas
MARGIN = 9

# Segment lengths and thicknesses (figure units) ---------------------------
TORSO = 42  # hip to shoulder
HEAD_R = 10
HEAD_OFFSET = 21  # shoulder to the centre of the head
UPPER_ARM = 24
FOREARM = 22
THIGH = 37
SHIN = 35
FOOT = 12
TORSO_W = 18
SHOULDER_HALF = 13  # front views only
HIP_HALF = 5
LIMB_W = 11
FOOT_W = 8
HALO = 3.5  # the gap drawn around a part so overlaps stay readable

FOOT_FLAT = -25  # ankle-to-toe angle of a foot standing flat, facing right

Pt = tuple[float, float]


# Geometry ------------------------------------------------------------------


def polar(p: Pt, angle: float, length: float) -> Pt:
    a = math.radians(angle)
    return (p[0] + length * math.cos(a), p[1] + length * math.sin(a))


def dist(a: Pt, b: Pt) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def angle_of(a: Pt, b: Pt) -> float:
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def ik(start: Pt, end: Pt, l1: float, l2: float, bend: int) -> Pt:
    """The middle joint of a two-segment limb reaching from start to end.

    bend +1 puts the joint on the left of the start->end line (counter-
    clockwise), -1 on the right. Raises if the limb cannot reach, so a pose
    that would need a stretched leg fails loudly instead of looking odd.
    """
    d = dist(start, end)
    if d > l1 + l2 + 0.6:
        raise ValueError(f"limb cannot reach: {d:.1f} > {l1 + l2}")
    d = min(max(d, abs(l1 - l2) + 1e-6), l1 + l2)
    ux, uy = (end[0] - start[0]) / d, (end[1] - start[1]) / d
    a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    h = math.sqrt(max(l1 * l1 - a * a, 0.0))
    return (start[0] + a * ux - bend * h * uy, start[1] + a * uy + bend * h * ux)


def hip_below(shoulder: Pt, torso: float) -> Pt:
    """Where the hip is for a shoulder position and a hip->shoulder angle."""
    return polar(shoulder, torso + 180, TORSO)


def leg_up(ankle: Pt, shin: float, thigh: float) -> tuple[Pt, Pt]:
    """Knee and hip going up a leg from a planted ankle (absolute angles)."""
    knee = polar(ankle, shin, SHIN)
    return knee, polar(knee, thigh, THIGH)


# Limb specifications -------------------------------------------------------


@dataclass(frozen=True)
class A:
    """A limb by absolute angles (degrees, counter-clockwise from +x)."""

    upper: float
    lower: float


@dataclass(frozen=True)
class To:
    """A limb reaching a point; bend None uses the natural side (knee forward,
    elbow back)."""

    x: float
    y: float
    bend: int | None = None


@dataclass(frozen=True)
class Via:
    """A limb through explicit points (for foreshortened limbs)."""

    mid: Pt
    end: Pt


Limb = A | To | Via


def place_limb(start: Pt, spec: Limb, l1: float, l2: float, natural: int) -> tuple[Pt, Pt]:
    if isinstance(spec, A):
        mid = polar(start, spec.upper, l1)
        return mid, polar(mid, spec.lower, l2)
    if isinstance(spec, Via):
        return spec.mid, spec.end
    end = (spec.x, spec.y)
    return ik(start, end, l1, l2, natural if spec.bend is None else spec.bend), end


# Scene pieces ---------------------------------------------------------------


@dataclass
class Arrow:
    points: list[Pt]  # start, (control,) end in figure space


@dataclass
class Prop:
    kind: str  # mat, ball, bench, roller, bar, wall, dumbbell, strap
    a: Pt = (0, 0)
    b: Pt = (0, 0)
    r: float = 0


@dataclass
class Pose:
    pts: dict[str, Pt]
    bend: float = 0.0
    face: bool = True
    # The head goes last: an arm beside the head must not hide it.
    order: tuple[str, ...] = ("arm_f", "leg_f", "torso", "leg_n", "arm_n", "head")
    props: list[Prop] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    flat: bool = False  # a front view: both sides in the body colour
    projected: bool = False  # drawn in 3D: limbs may look shorter than they are


def fig(
    hip: Pt,
    torso: float,
    *,
    arm: Limb,
    leg: Limb,
    farm: Limb | None = None,
    fleg: Limb | None = None,
    foot: float = FOOT_FLAT,
    ffoot: float | None = None,
    head: float = 0.0,
    bend: float = 0.0,
    face: bool = True,
    order: tuple[str, ...] | None = None,
    props: list[Prop] | None = None,
    arrows: list[Arrow] | None = None,
    foot_scale: float = 1.0,
    head_at: Pt | None = None,
) -> Pose:
    """Build a pose from the hip, the torso angle and the four limbs."""
    shoulder = polar(hip, torso, TORSO)
    # The neck follows the spine's tangent at the shoulder when the back curves.
    back = (math.cos(math.radians(torso + 90)), math.sin(math.radians(torso + 90)))
    ctrl = (
        (hip[0] + shoulder[0]) / 2 + back[0] * bend * 2,
        (hip[1] + shoulder[1]) / 2 + back[1] * bend * 2,
    )
    tangent = angle_of(ctrl, shoulder) if bend else torso
    head_c = head_at or polar(shoulder, tangent + head, HEAD_OFFSET)
    pts: dict[str, Pt] = {"hip": hip, "shoulder": shoulder, "head": head_c, "ctrl": ctrl}
    for side, spec in (("n", arm), ("f", farm or arm)):
        pts[f"elbow_{side}"], pts[f"hand_{side}"] = place_limb(
            shoulder, spec, UPPER_ARM, FOREARM, -1
        )
    for side, spec, f in (("n", leg, foot), ("f", fleg or leg, foot if ffoot is None else ffoot)):
        knee, ankle = place_limb(hip, spec, THIGH, SHIN, 1)
        pts[f"knee_{side}"], pts[f"ankle_{side}"] = knee, ankle
        pts[f"toe_{side}"] = polar(ankle, f, FOOT * foot_scale)
    pose = Pose(pts=pts, bend=bend, face=face, props=props or [], arrows=arrows or [])
    if order:
        pose.order = order
    return pose


def check_lengths(slug: str, pose: Pose) -> list[str]:
    """Legs and torso must keep their lengths between poses. Foreshortened
    limbs (declared with Via, or drawn in 3D) may look shorter, never longer."""
    problems: list[str] = []
    if pose.projected:
        return problems
    p = pose.pts
    segments = [
        ("hip", "shoulder", TORSO),
        ("knee_n", "ankle_n", SHIN),
        ("knee_f", "ankle_f", SHIN),
        ("hip", "knee_n", THIGH),
        ("hip", "knee_f", THIGH),
    ]
    for a, b, length in segments:
        d = dist(p[a], p[b])
        if abs(d - length) > 0.75 and d > length * 0.95:
            problems.append(f"{slug}: {a}-{b} is {d:.1f}, expected {length}")
    return problems


# The poses -----------------------------------------------------------------

STAND_HIP = 78.0
ANKLE_Y = 9.0
ON_FLOOR = 5.5  # centre line of a limb resting on the floor
TORSO_ON_FLOOR = 9.0
TOES = -55  # foot angle standing on the ball of the foot, facing right


def standing(x: float = 0, **kw) -> Pose:
    kw.setdefault("arm", A(-96, -82))
    kw.setdefault("leg", To(x, ANKLE_Y))
    return fig((x, STAND_HIP), kw.pop("torso", 90), **kw)


# A bridge pivots about the shoulders; find the lift that keeps the shins
# upright with the feet where they started.
BRIDGE_SHOULDER = (-TORSO, TORSO_ON_FLOOR)
BRIDGE_TILT = math.degrees(math.asin((SHIN + ANKLE_Y - 2 - TORSO_ON_FLOOR) / (TORSO + THIGH)))
BRIDGE_HIP = polar(BRIDGE_SHOULDER, BRIDGE_TILT, TORSO)
BRIDGE_KNEE = polar(BRIDGE_HIP, BRIDGE_TILT, THIGH)
BRIDGE_ANKLE_X = BRIDGE_KNEE[0] + math.sqrt(SHIN**2 - (BRIDGE_KNEE[1] - ANKLE_Y) ** 2)
ARMS_BY_SIDES = A(-4, -1)


def supine(hip: Pt = (0, TORSO_ON_FLOOR), torso: float = 180, **kw) -> Pose:
    """On the back, head on the left, knees bent and feet flat."""
    kw.setdefault("arm", ARMS_BY_SIDES)
    kw.setdefault("leg", To(BRIDGE_ANKLE_X, ANKLE_Y))
    kw.setdefault("fleg", To(BRIDGE_ANKLE_X, ANKLE_Y))
    kw.setdefault("head", -3)
    return fig(hip, torso, **kw)


def bridge(**kw) -> Pose:
    return supine(BRIDGE_HIP, 180 + BRIDGE_TILT, **kw)


def prone(torso: float = 0, **kw) -> Pose:
    """Face down, head on the right."""
    kw.setdefault("leg", A(182, 180))
    kw.setdefault("foot", 188)
    kw.setdefault("order", ("arm_f", "leg_f", "torso", "arm_n", "head", "leg_n"))
    return fig((0, TORSO_ON_FLOOR), torso, **kw)


def all_fours(bend: float = 0, **kw) -> Pose:
    """Hands under shoulders, knees under hips, head on the right."""
    hip = (0.0, ON_FLOOR + THIGH)
    torso = 12.0
    shoulder = polar(hip, torso, TORSO)
    support = To(shoulder[0] + 4, ON_FLOOR + 1)
    kw.setdefault("arm", support)
    kw.setdefault("farm", support)
    kw.setdefault("leg", Via((0, ON_FLOOR), (-SHIN, ON_FLOOR)))
    kw.setdefault("foot", 185)
    return fig(hip, torso, bend=bend, **kw)


def split(hip: Pt, front_x: float, back_toe_x: float, torso: float = 90, **kw) -> Pose:
    """A split stance: near foot flat in front, far foot on its toes behind."""
    back_foot = kw.pop("back_foot", TOES)
    ankle = polar((back_toe_x, 4), back_foot + 180, FOOT)
    kw.setdefault("arm", A(-96, -80))
    return fig(hip, torso, leg=To(front_x, ANKLE_Y), fleg=To(*ankle), ffoot=back_foot, **kw)


def half_kneel(hip_x: float, back_knee_x: float, front_x: float, **kw) -> Pose:
    """Back (far) knee on the floor, front foot flat, knee over the ankle."""
    hip = (hip_x, ON_FLOOR + math.sqrt(THIGH**2 - (hip_x - back_knee_x) ** 2))
    kw.setdefault("arm", A(-98, -80))
    back = Via((back_knee_x, ON_FLOOR), (back_knee_x - SHIN, ON_FLOOR + 1))
    return fig(hip, kw.pop("torso", 90), leg=To(front_x, ANKLE_Y), fleg=back, ffoot=184, **kw)


def squat(shin: float, thigh: float, lean: float, **kw) -> Pose:
    _knee, hip = leg_up((0, ANKLE_Y), shin, thigh)
    return fig(hip, lean, leg=To(0, ANKLE_Y), **kw)


def hanging(legs: str, **kw) -> Pose:
    """Hanging from a bar with straight arms; the bar is drawn at the hands."""
    hip = (0.0, THIGH + SHIN + 16)
    shoulder = polar(hip, 90, TORSO)
    hands = (shoulder[0] + 5, shoulder[1] + UPPER_ARM + FOREARM - 1)
    leg, foot = {
        "down": (A(-93, -92), -58),
        "knees": (A(2, -88), -30),
        "straight": (A(3, 3), 65),
    }[legs]
    pose = fig(
        hip,
        90,
        arm=To(*hands, -1),
        leg=leg,
        foot=foot,
        order=("arm_f", "leg_f", "torso", "arm_n", "head", "leg_n"),
        **kw,
    )
    pose.props.insert(0, Prop("bar", (hands[0] - 40, hands[1] + 1), (hands[0] + 40, hands[1] + 1)))
    return pose


def hands_behind_head(hip: Pt, torso: float) -> Via:
    """Fingertips by the ears, elbows out: seen from the side, a short loop."""
    shoulder = polar(hip, torso, TORSO)
    elbow = polar(shoulder, torso - 35, 18)
    hand = polar(shoulder, torso + 30, 16)
    return Via(elbow, hand)


# Side-lying poses, side plank and the figure-4 are drawn in 3D (x along the
# body, y up, z towards the viewer) and seen from above the front, so a knee
# that opens upwards or a forearm that points forwards still reads.
FRONT_EDGE = 34.0  # z of the mat's front edge, which sits on the floor line
BACK_EDGE = -6.0
P3 = tuple[float, float, float]


def p3(pt: P3, elevation: float) -> Pt:
    e = math.radians(elevation)
    x, y, z = pt
    return (x, y * math.cos(e) + (FRONT_EDGE - z) * math.sin(e))


def pose3d(
    *,
    elevation: float,
    hip: P3,
    shoulder: P3,
    head: P3,
    arms: tuple[tuple[P3, P3], tuple[P3, P3]],
    legs: tuple[tuple[P3, P3], tuple[P3, P3]],
    toes: tuple[P3, P3],
    arrows: list[Arrow] | None = None,
    face: bool = False,
    order: tuple[str, ...] = ("leg_f", "arm_f", "torso", "head", "leg_n", "arm_n"),
) -> Pose:
    """arms/legs are (near, far) pairs of (middle joint, end) points; arrows
    are given in screen (projected) figure space."""

    def pr(pt: P3) -> Pt:
        return p3(pt, elevation)

    pts: dict[str, Pt] = {"hip": pr(hip), "shoulder": pr(shoulder), "head": pr(head)}
    pts["ctrl"] = pts["hip"]
    for side, (mid, end) in zip("nf", arms, strict=True):
        pts[f"elbow_{side}"], pts[f"hand_{side}"] = pr(mid), pr(end)
    for side, (mid, end), toe in zip("nf", legs, toes, strict=True):
        pts[f"knee_{side}"], pts[f"ankle_{side}"], pts[f"toe_{side}"] = pr(mid), pr(end), pr(toe)
    xs = [x for x, _ in pts.values()]
    depth = (FRONT_EDGE - BACK_EDGE) * math.sin(math.radians(elevation))
    pose = Pose(
        pts=pts,
        face=face,
        order=order,
        props=[Prop("mat", (min(xs) - 14, 0), (max(xs) + 14, 0), r=depth)],
        arrows=arrows or [],
    )
    pose.projected = True
    return pose


SIDE_ELEVATION = 40.0


def side_lying(top_leg: tuple[P3, P3], top_toe: P3, **kw) -> Pose:
    """Lying on the left side, head on the left resting on the lower arm,
    the lower (far) leg bent in front for balance, the top hand on the hip."""
    y = 13.0
    return pose3d(
        elevation=SIDE_ELEVATION,
        hip=(0, y, 0),
        shoulder=(-TORSO, y + 1, 0),
        head=(-TORSO - 19, y + 5, 2),
        arms=(
            ((-TORSO + 20, y + 9, 4), (-4, y + 9, 6)),  # top hand resting on the hip
            ((-TORSO - 24, 5, 2), (-TORSO - 48, 5, 2)),  # lower arm under the head
        ),
        legs=(top_leg, ((25, 5, 25), (49, 5, 2))),
        toes=(top_toe, (57, 5, 9)),
        **kw,
    )


def side_plank() -> Pose:
    """Propped on the lower forearm (pointing forwards, towards the viewer),
    hips lifted, body straight, feet stacked, top arm up."""
    shoulder = (0.0, ON_FLOOR + UPPER_ARM, 0.0)
    tilt = math.asin((shoulder[1] - 8) / (TORSO + THIGH + SHIN))
    dx, dy = math.cos(tilt), -math.sin(tilt)

    def along(d: float) -> P3:
        return (shoulder[0] + d * dx, shoulder[1] + d * dy, 0.0)

    hip, knee, ankle = along(TORSO), along(TORSO + THIGH), along(TORSO + THIGH + SHIN)
    top = shoulder[1] + UPPER_ARM
    return pose3d(
        elevation=24,
        hip=hip,
        shoulder=shoulder,
        head=(-20 * dx, shoulder[1] - 20 * dy + 1, 0),
        arms=(((0, ON_FLOOR, 3), (-8, ON_FLOOR, 27)), ((0, top, 0), (0, top + FOREARM, 0))),
        legs=((knee, ankle), (knee, (ankle[0], ankle[1] + 2, 0))),
        toes=((ankle[0] + 3, ankle[1] - 1, 10), (ankle[0] + 3, ankle[1] + 1, 10)),
    )


def clam_leg(opening: float) -> tuple[tuple[P3, P3], P3]:
    """The top leg of a clamshell: hips and knees bent, feet together; the
    knee swings up by `opening` degrees about the hip-to-ankle line."""
    y = 21.0
    a = math.radians(opening)
    knee = (25.0, y + 25.0 * math.sin(a), 25.0 * math.cos(a))
    return (knee, (49, y - 4, 2)), (57, y - 4, 9)


def straight_top_leg(lift: float) -> tuple[tuple[P3, P3], P3]:
    a = math.radians(lift)
    y = 21.0
    knee = (THIGH * math.cos(a), y + THIGH * math.sin(a), -3)
    ankle = ((THIGH + SHIN) * math.cos(a), y + (THIGH + SHIN) * math.sin(a), -4)
    toe = (ankle[0] + 2, ankle[1] - 1, 8)
    return (knee, ankle), toe


def figure_four() -> Pose:
    """On the back seen from above the side: the far thigh drawn towards the
    chest, the near ankle crossed over it with the near knee falling out."""
    e = 38.0
    far_knee = (-4.0, 43.0, -5.0)
    far_ankle = (28.0, 48.0, -5.0)
    near_knee = (16.0, 20.0, 27.0)
    near_ankle = (-2.0, 42.0, 1.0)
    shoulder = (-TORSO, TORSO_ON_FLOOR, 0.0)
    hands = p3((-8.0, 36.0, -2.0), e)
    sh = p3(shoulder, e)
    elbow = ik(sh, hands, UPPER_ARM, FOREARM, -1)
    unset: tuple[P3, P3] = ((0, 0, 0), (0, 0, 0))  # arms are placed in 2D below
    pose = pose3d(
        elevation=e,
        hip=(0, TORSO_ON_FLOOR, 0),
        shoulder=shoulder,
        head=(-TORSO - 21, 10, 0),
        arms=(unset, unset),
        legs=((near_knee, near_ankle), (far_knee, far_ankle)),
        toes=((-6, 50, 4), (38, 50, -4)),
        face=True,
        order=("arm_f", "leg_f", "torso", "head", "leg_n", "arm_n"),
    )
    for side in "nf":
        pose.pts[f"elbow_{side}"], pose.pts[f"hand_{side}"] = elbow, hands
    return pose


def up(x: float, y0: float, y1: float) -> Arrow:
    return Arrow([(x, y0), (x, y1)])


def arc(*pts: Pt) -> Arrow:
    return Arrow(list(pts))


def scenes() -> dict[str, Scene]:
    s: dict[str, Scene] = {}

    def add(slug: str, label: str, *panels: Pose, layout: str = "auto") -> None:
        s[slug] = Scene(label, list(panels), layout)

    def mat() -> Prop:
        return Prop("mat")  # spans the figure, see render()

    # Bridges ------------------------------------------------------------------
    hip_lift = up(BRIDGE_HIP[0] - 2, BRIDGE_HIP[1] + 14, BRIDGE_HIP[1] + 34)
    add(
        "glute-bridge",
        "Glute bridge: lying on the back with knees bent and feet flat, then the hips "
        "lifted so shoulders, hips and knees make a straight line.",
        supine(props=[mat()]),
        bridge(props=[mat()], arrows=[hip_lift]),
    )
    add(
        "single-leg-glute-bridge",
        "Single-leg glute bridge: on the back with one foot flat and the other leg "
        "straight and raised, then the hips lifted on the one supporting leg.",
        supine(fleg=A(38, 38), ffoot=110, props=[mat()]),
        bridge(
            fleg=A(BRIDGE_TILT, BRIDGE_TILT),
            ffoot=BRIDGE_TILT + 80,
            props=[mat()],
            arrows=[hip_lift],
        ),
    )
    knee_in = polar(BRIDGE_HIP, 88, THIGH)
    add(
        "marching-glute-bridge",
        "Marching glute bridge: holding a bridge with the hips lifted, then raising "
        "one knee towards the chest while the hips stay level.",
        bridge(props=[mat()]),
        bridge(
            leg=Via(knee_in, polar(knee_in, -2, SHIN)),
            foot=-25,
            props=[mat()],
            arrows=[up(knee_in[0] - 12, knee_in[1] - 22, knee_in[1] - 4)],
        ),
    )
    add(
        "pelvic-tilt",
        "Pelvic tilt: lying on the back with knees bent and a small gap under the "
        "lower back, then the tummy gently tightened so the lower back eases onto the floor.",
        supine(bend=-4.5, props=[mat()]),
        supine(
            bend=1,
            props=[mat()],
            arrows=[Arrow([(-14, 40), (-14, 24)])],
        ),
    )

    # Lying face down ------------------------------------------------------------
    folded = Via((52, ON_FLOOR), (64, 6))
    add(
        "prone-knee-lift-test",
        "Prone knee lift self-test: lying face down with the forehead on the hands and "
        "one knee bent to a right angle, then that knee lifted a little off the floor.",
        prone(arm=folded, head=18, leg=A(182, 90), foot=100, props=[mat()]),
        prone(
            arm=folded,
            head=18,
            leg=A(168, 78),
            foot=88,
            props=[mat()],
            arrows=[up(-48, 20, 38)],
        ),
    )
    add(
        "locust",
        "Locust: lying face down with arms by the sides, then the chest, arms and both "
        "legs lifted a little way off the floor and held, eyes looking at the floor.",
        prone(head=-4, arm=A(183, 181), foot=190, props=[mat()]),
        prone(
            torso=17,
            head=-8,
            arm=A(192, 186),
            leg=A(169, 170),
            foot=180,
            props=[mat()],
            arrows=[up(56, 30, 48), up(-62, 28, 46)],
        ),
    )
    # Bird dog: near arm and far leg (opposite sides) reach out.
    add(
        "bird-dog",
        "Bird dog: on hands and knees with a flat back, then one arm reaching forwards "
        "and the opposite leg reaching back, both level with the body.",
        all_fours(props=[mat()]),
        all_fours(arm=A(8, 8), fleg=A(178, 178), ffoot=188, props=[mat()]),
    )
    add(
        "cat-cow",
        "Cat-cow: on hands and knees, the back rounded up towards the ceiling with the "
        "head dropped, then the back gently dipped with the chest and head lifted.",
        all_fours(bend=9, head=-28, props=[mat()]),
        all_fours(bend=-7, head=22, props=[mat()]),
    )
    shoulder_plank = (0.0, ON_FLOOR + UPPER_ARM)
    tilt = math.degrees(math.asin((shoulder_plank[1] - 15.3) / (TORSO + THIGH + SHIN)))
    add(
        "plank",
        "Forearm plank: elbows under the shoulders and forearms on the floor, up on the "
        "toes with the body in one straight line from head to heels.",
        fig(
            hip_below(shoulder_plank, tilt),
            tilt,
            arm=A(-90, 0),
            leg=A(180 + tilt, 180 + tilt),
            foot=-72,
            props=[mat()],
        ),
    )
    add(
        "side-plank",
        "Side plank: lying on one side propped on the forearm with the elbow under the "
        "shoulder, hips lifted so the body is straight, top arm reaching to the ceiling.",
        side_plank(),
    )
    add(
        "clamshell",
        "Clamshell: lying on one side with hips and knees bent and the feet together, then "
        "the top knee opened upwards like a shell while the feet keep touching.",
        side_lying(*clam_leg(0)),
        side_lying(*clam_leg(50), arrows=[arc((40, 28), (46, 40), (36, 48))]),
    )
    add(
        "side-lying-hip-abduction",
        "Side-lying leg lift: lying on one side with the top leg straight in line with the "
        "body, then that leg lifted towards the ceiling and lowered slowly.",
        side_lying(*straight_top_leg(0)),
        side_lying(*straight_top_leg(28), arrows=[arc((76, 34), (84, 46), (76, 58))]),
    )

    # Lying on the back ----------------------------------------------------------
    table = A(90, 0)
    add(
        "dead-bug",
        "Dead bug: lying on the back with arms pointing at the ceiling and knees bent "
        "over the hips, then one arm lowered overhead while the opposite leg stretches out.",
        supine(arm=A(90, 90), leg=table, fleg=table, foot=20, props=[mat()]),
        supine(
            arm=A(168, 172),
            farm=A(90, 90),
            leg=table,
            fleg=A(12, 12),
            foot=20,
            ffoot=30,
            props=[mat()],
        ),
    )
    hug_knee = polar((0, TORSO_ON_FLOOR), 118, THIGH)
    hug_hands = polar(hug_knee, -20, 10)
    add(
        "knee-to-chest",
        "Knee to chest: lying on the back with one leg along the floor, the other knee "
        "drawn gently towards the chest with both hands.",
        supine(
            leg=Via(hug_knee, polar(hug_knee, -20, SHIN)),
            fleg=A(-2, -1),
            ffoot=60,
            foot=10,
            arm=To(*hug_hands, -1),
            props=[mat()],
            arrows=[arc((hug_knee[0] + 14, 60), (hug_knee[0] + 2, 68), (hug_knee[0] - 12, 61))],
        ),
    )
    add(
        "figure-4-glute-stretch",
        "Figure-4 glute stretch: lying on the back with one ankle crossed over the "
        "opposite knee, that thigh drawn gently towards the chest.",
        figure_four(),
    )
    ham_ankle = polar(polar((0, TORSO_ON_FLOOR), 72, THIGH), 72, SHIN)
    ham = supine(
        leg=A(72, 72),
        foot=150,
        arm=To(-8, 40, 1),
        props=[mat()],
    )
    ham.props.append(Prop("strap", ham.pts["hand_n"], polar(ham_ankle, 150, 8)))
    add(
        "hamstring-stretch",
        "Hamstring stretch: lying on the back with one foot flat, the other leg raised "
        "straight with a towel round the foot, held where a gentle stretch is felt.",
        ham,
    )
    add(
        "foam-roll-back",
        "Foam rolling the back: lying with a roller across the upper back, knees bent "
        "and hands behind the head, then rolling slowly down to the middle of the back.",
        roller_back(34),
        roller_back(22),
    )

    # Kneeling -------------------------------------------------------------------
    add(
        "kneeling-lunge-hip-flexor-check",
        "Kneeling lunge self-check: kneeling on one knee with the other foot in front, "
        "then the hips eased forwards to see how far they can travel.",
        half_kneel(0, 0, 36, props=[mat()]),
        half_kneel(15, 0, 36, props=[mat()], arrows=[Arrow([(26, 60), (42, 60)])]),
    )
    add(
        "kneeling-hip-flexor-stretch",
        "Kneeling hip flexor stretch: kneeling on one knee with the other foot in front, "
        "hips eased forwards and the arm on the kneeling side reaching up.",
        half_kneel(
            17,
            0,
            36,
            farm=A(112, 106),
            props=[mat()],
            arrows=[Arrow([(28, 58), (44, 58)])],
        ),
    )
    add(
        "childs-pose",
        "Child's pose: kneeling, sitting back towards the heels with the body folded "
        "forwards, arms stretched out in front and forehead resting on the floor.",
        fig(
            (-31, 24),
            -17,
            bend=7,
            head_at=(22, HEAD_R + 0.5),
            arm=A(-2, 0),
            leg=To(-SHIN + 3, ON_FLOOR),
            foot=182,
            props=[mat()],
            order=("arm_f", "leg_f", "leg_n", "torso", "arm_n", "head"),
        ),
    )

    # Standing -------------------------------------------------------------------
    add(
        "standing-quad-stretch",
        "Standing quad stretch: standing tall on one leg, the other knee bent so the heel "
        "comes towards the bottom, holding that ankle with the hand.",
        standing(
            leg=A(-100, 110),
            foot=150,
            fleg=To(0, ANKLE_Y),
            ffoot=FOOT_FLAT,
            arm=To(-12, 82, -1),
            farm=A(-45, -20),
        ),
    )
    add(
        "squat",
        "Squat: standing with feet about hip-width apart, then sitting the hips back and "
        "down until the thighs are near level, arms reaching forwards for balance.",
        standing(),
        squat(62, 172, 55, arm=A(2, 2), arrows=[arc((-44, 84), (-56, 70), (-46, 54))]),
    )
    add(
        "deep-squat-hold",
        "Deep squat hold: sitting low in a squat with the heels down, hips below the "
        "knees, chest up and arms reaching forwards for balance.",
        squat(50, 196, 66, head=-4, arm=A(12, 14)),
    )
    add(
        "static-lunge",
        "Static lunge: standing with one foot well in front of the other, then lowering "
        "straight down until the back knee is just above the floor.",
        split((-3, 63), 40, -40, arm=A(-97, -83)),
        split((-4, 44), 40, -40, back_foot=-72, arm=A(-97, -83), arrows=[up(-30, 72, 56)]),
    )
    add(
        "dynamic-lunge",
        "Dynamic lunge: standing tall, then stepping forwards into a lunge until the back "
        "knee lightly touches the floor, and driving back up to standing.",
        standing(),
        split((-4, 42), 42, -46, back_foot=-80, arrows=[up(-34, 58, 78)]),
    )
    add(
        "reverse-lunge",
        "Reverse lunge: standing tall, then stepping one foot back and lowering until the "
        "back knee is just above the floor, front knee over the foot.",
        standing(),
        split(
            (-4, 44),
            40,
            -40,
            back_foot=-72,
            arrows=[arc((-36, 32), (-52, 44), (-66, 30))],
        ),
    )
    bench_top = 40.0
    add(
        "bulgarian-split-squat",
        "Bulgarian split squat: the back foot resting on a bench behind, then lowering "
        "on the front leg until the front thigh is near level.",
        split_bench((2, 70), 30, bench_top),
        split_bench((-6, 45), 30, bench_top, arrows=[up(-34, 72, 56)]),
    )
    rdl_start = standing(arm=A(-92, -90))
    rdl_end = fig((-27, 69), 31, head=-4, arm=A(-90, -91), leg=To(0, ANKLE_Y))
    for pose in (rdl_start, rdl_end):
        pose.props.append(Prop("dumbbell", pose.pts["hand_n"]))
    rdl_end.arrows.append(arc((-44, 90), (-54, 82), (-56, 70)))
    add(
        "romanian-deadlift",
        "Romanian deadlift: standing tall holding dumbbells, then hinging at the hips "
        "with a flat back and soft knees, weights sliding down to the knees.",
        rdl_start,
        rdl_end,
    )
    add(
        "hanging-knee-raise",
        "Hanging knee raise: hanging from a bar with straight arms, then drawing both "
        "knees up to hip height and lowering slowly.",
        hanging("down"),
        hanging("knees", arrows=[up(54, 56, 82)]),
    )
    add(
        "hanging-leg-raise",
        "Hanging leg raise: hanging from a bar with straight arms, then lifting both "
        "straight legs to hip height and lowering slowly.",
        hanging("down"),
        hanging("straight", arrows=[arc((34, 26), (70, 32), (78, 70))]),
    )
    add(
        "high-knee-drill",
        "High-knee drill: running on the spot or slowly forwards, tall, with each knee "
        "lifted to hip height and the arms swinging in opposition.",
        high_knee(near_up=True),
        high_knee(near_up=False),
    )
    add(
        "calf-raise",
        "Calf raise: standing tall with feet hip-width apart, then rising up onto the "
        "balls of the feet and lowering the heels slowly.",
        standing(),
        fig(
            (0, STAND_HIP + 9),
            90,
            arm=A(-96, -82),
            leg=To(0, ANKLE_Y + 9.5),
            foot=-60,
            arrows=[up(-16, 8, 26)],
        ),
    )
    add(
        "single-leg-balance",
        "Single-leg balance: standing tall on one leg with the other knee lifted a "
        "little, arms relaxed, looking straight ahead.",
        standing(
            leg=A(-22, -98), foot=-30, fleg=To(0, ANKLE_Y), arm=A(-100, -84), farm=A(-80, -70)
        ),
    )
    add(
        "walking",
        "Brisk walking: upright posture mid-stride, heel landing in front and arms "
        "swinging naturally in opposition to the legs.",
        walker(),
    )
    add(
        "run-walk-intervals",
        "Run-walk intervals: a figure walking briskly, then the same figure running "
        "easily with a tall posture.",
        walker(),
        runner(),
    )
    wall_x = 17.0
    add(
        "knee-to-wall",
        "Knee-to-wall ankle stretch: standing facing a wall with one foot a little way "
        "from it, then bending that knee forwards to touch the wall with the heel down.",
        knee_wall(wall_x, 82),
        knee_wall(wall_x, 71, arrows=[Arrow([(-4, 60), (8, 60)])]),
    )
    add(
        "side-lunge",
        "Side lunge, seen from the front: standing with the feet wide, then bending one "
        "knee and sitting the hips towards that side while the other leg stays straight.",
        side_lunge(0),
        side_lunge(1),
    )

    # Props ----------------------------------------------------------------------
    add(
        "stability-ball-back-extension",
        "Stability ball back extension: lying face down over a ball with the feet on the "
        "floor and hands by the ears, then lifting the chest until the body is straight.",
        ball_back(-38),
        ball_back(31, arrows=[arc((52, 36), (70, 50), (66, 72))]),
    )
    add(
        "stability-ball-reverse-leg-raise",
        "Stability ball reverse leg raise: hips resting on a ball and hands on the floor "
        "under the shoulders, then both straight legs lifted level with the body.",
        ball_legs(False),
        ball_legs(True),
    )
    add(
        "foam-roll-hips",
        "Foam rolling the hips: sitting on a roller with the hands on the floor behind "
        "and the feet flat, rocking slowly to roll the muscles of the buttock.",
        roller_hips(),
    )
    return s


def roller_back(contact: float) -> Pose:
    """Lying on a foam roller: the torso touches the roller `contact` units
    up from the hip, the hip rests just off the floor."""
    r = 8.0
    hip = (0.0, 11.0)
    gap = TORSO_W / 2 + r  # spine to roller centre

    def roller_centre(lift: float) -> Pt:
        d = (-math.cos(math.radians(lift)), math.sin(math.radians(lift)))
        touch = (hip[0] + d[0] * contact, hip[1] + d[1] * contact)
        back = (-d[1], d[0])  # from the spine towards the floor
        return (touch[0] + back[0] * gap, touch[1] + back[1] * gap)

    # Raise the torso a tenth of a degree at a time until the roller under
    # it stands on the floor.
    lift = next(t / 10 for t in range(900) if roller_centre(t / 10)[1] >= r)
    centre = (roller_centre(lift)[0], r)
    torso = 180 - lift
    return fig(
        hip,
        torso,
        head=-10,
        arm=hands_behind_head(hip, torso),
        leg=To(BRIDGE_ANKLE_X + 2, ANKLE_Y),
        props=[Prop("roller", centre, r=r)],
    )


def split_bench(hip: Pt, front_x: float, top: float, arrows: list[Arrow] | None = None) -> Pose:
    back_ankle = (-56.0, top + 6)
    return fig(
        hip,
        88,
        arm=A(-96, -80),
        leg=To(front_x, ANKLE_Y),
        fleg=To(*back_ankle),
        ffoot=192,
        props=[Prop("bench", (-80, top), (-44, 0))],
        arrows=arrows,
    )


def high_knee(near_up: bool) -> Pose:
    lifted, lifted_foot = A(-2, -88), -8
    support, support_foot = To(2, ANKLE_Y + 4), TOES
    drive_back, drive_fwd = A(-120, -40), A(-55, 50)
    return fig(
        (0, STAND_HIP + 4),
        86,
        leg=lifted if near_up else support,
        foot=lifted_foot if near_up else support_foot,
        fleg=support if near_up else lifted,
        ffoot=support_foot if near_up else lifted_foot,
        arm=drive_back if near_up else drive_fwd,
        farm=drive_fwd if near_up else drive_back,
    )


def walker() -> Pose:
    return fig(
        (0, STAND_HIP - 3),
        88,
        leg=To(27, ANKLE_Y + 2),
        foot=10,
        fleg=To(-24, 14),
        ffoot=-45,
        arm=A(-115, -100),
        farm=A(-65, -45),
    )


def runner() -> Pose:
    return fig(
        (0, STAND_HIP - 2),
        80,
        leg=To(8, ANKLE_Y + 2),
        foot=-15,
        fleg=A(-120, -165),
        ffoot=-115,
        arm=A(-125, -30),
        farm=A(-60, 40),
    )


def knee_wall(wall_x: float, shin: float, arrows: list[Arrow] | None = None) -> Pose:
    knee, _ = leg_up((0, ANKLE_Y), shin, 118)
    hip = polar(knee, 118, THIGH)
    torso = 84.0
    shoulder = polar(hip, torso, TORSO)
    return fig(
        hip,
        torso,
        leg=To(0, ANKLE_Y),
        fleg=To(-44, 15),
        ffoot=TOES,
        arm=To(wall_x - 5.5, shoulder[1] + 8, -1),
        props=[Prop("wall", (wall_x + 1, 0), (wall_x + 1, 150))],
        arrows=arrows,
    )


def side_lunge(step: int) -> Pose:
    """Seen from the front: legs spread, the near leg on the viewer's left."""
    if step == 0:
        hip = (0.0, 67.0)
        legs = {"leg": To(-36, ANKLE_Y, -1), "fleg": To(34, ANKLE_Y)}
    else:
        hip = (-16.0, 47.0)
        legs = {"leg": Via((-33, 36), (-36, ANKLE_Y)), "fleg": To(34, ANKLE_Y)}
    shoulder = polar(hip, 90, TORSO)
    pose = fig(
        hip,
        90,
        arm=Via((shoulder[0] - 21, shoulder[1] - 23), (shoulder[0] - 26, shoulder[1] - 45)),
        farm=Via((shoulder[0] + 21, shoulder[1] - 23), (shoulder[0] + 26, shoulder[1] - 45)),
        foot=200,
        ffoot=-20,
        face=False,
        foot_scale=0.7,
        order=("leg_f", "leg_n", "torso", "head", "arm_f", "arm_n"),
        arrows=[Arrow([(6, 28), (-8, 28)])] if step else [],
        **legs,
    )
    pose.flat = True
    return pose


def ball_back(torso: float, arrows: list[Arrow] | None = None) -> Pose:
    r = 26.0
    hip = (0.0, 2 * r + 7)
    return fig(
        hip,
        torso,
        head=-6 if torso < 0 else 0,
        arm=hands_behind_head(hip, torso),
        leg=To(-50, 14, 1),
        fleg=To(-54, 14, 1),
        foot=-100,
        props=[Prop("ball", (9, r), r=r)],
        arrows=arrows,
    )


def ball_legs(lifted: bool) -> Pose:
    r = 25.0
    hip = (0.0, 2 * r + 8)
    torso = -8.0
    shoulder = polar(hip, torso, TORSO)
    leg = A(176, 176) if lifted else To(-46, 12, 1)
    return fig(
        hip,
        torso,
        head=-2,
        arm=To(shoulder[0] + 3, ON_FLOOR + 1),
        leg=leg,
        foot=188 if lifted else -100,
        props=[Prop("ball", (8, r), r=r)],
        arrows=[arc((-74, 44), (-84, 58), (-76, 70))] if lifted else [],
    )


def roller_hips() -> Pose:
    """Sitting on a roller, hands on the floor behind, feet flat; rocking
    forwards and back rolls the buttock."""
    r = 9.0
    hip = (0.0, 2 * r + 6)
    torso = 142.0
    shoulder = polar(hip, torso, TORSO)
    knee = polar(hip, 42, THIGH)
    return fig(
        hip,
        torso,
        head=-14,
        arm=To(shoulder[0] - 4, ON_FLOOR + 1, -1),
        leg=To(knee[0] + 8, ANKLE_Y),
        props=[Prop("roller", (0, r), r=r)],
        arrows=[Arrow([(-13, 2), (-22, 2)]), Arrow([(13, 2), (22, 2)])],
    )


@dataclass
class Scene:
    label: str
    panels: list[Pose]
    layout: str = "auto"  # auto, side or stack


# Rendering ------------------------------------------------------------------


def fmt(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


class Canvas:
    def __init__(self, scale: float, ox: float, cx: float, floor: float) -> None:
        self.scale, self.ox, self.cx, self.floor = scale, ox, cx, floor

    def xy(self, p: Pt) -> str:
        return (
            f"{fmt(self.ox + (p[0] - self.cx) * self.scale)} {fmt(self.floor - p[1] * self.scale)}"
        )

    def w(self, v: float) -> str:
        return fmt(v * self.scale)


def path_d(c: Canvas, pts: list[Pt]) -> str:
    return "M" + " L".join(c.xy(p) for p in pts)


def stroke(
    d: str, colour: str, width: str, halo: float | None = None, scale: float = 1, halo_d: str = ""
) -> str:
    out = []
    if halo is not None:
        out.append(
            f'<path d="{halo_d or d}" fill="none" stroke="{BACKGROUND}" stroke-width="'
            f'{fmt(float(width) + halo * 2 * scale)}" stroke-linecap="round" '
            'stroke-linejoin="round"/>'
        )
    out.append(
        f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )
    return "".join(out)


def draw_prop(c: Canvas, prop: Prop) -> str:
    s = c.scale
    if prop.kind == "mat":
        x0 = c.ox + (prop.a[0] - c.cx) * s
        x1 = c.ox + (prop.b[0] - c.cx) * s
        h = prop.r or 4
        return (
            f'<rect x="{fmt(x0)}" y="{fmt(c.floor - h * s)}" width="{fmt(x1 - x0)}" '
            f'height="{fmt((h + 1) * s)}" rx="{fmt(2.5 * s)}" fill="{MAT}"/>'
        )
    if prop.kind == "strap":
        return stroke(path_d(c, [prop.a, prop.b]), PROP_LINE, c.w(3))
    if prop.kind in ("ball", "roller"):
        cx, cy = c.xy(prop.a).split()
        return (
            f'<circle cx="{cx}" cy="{cy}" r="{fmt(prop.r * s)}" fill="{PROP_FILL}" '
            f'stroke="{PROP_LINE}" stroke-width="{fmt(2.5 * s)}"/>'
        )
    if prop.kind == "bench":
        (x0, y0), (x1, _) = prop.a, prop.b  # a: top-left corner, b: right edge
        top = c.xy((x0, y0)).split()
        right = c.xy((x1, 0)).split()
        legs = stroke(
            path_d(c, [(x0 + 5, y0), (x0 + 5, 0)]) + " " + path_d(c, [(x1 - 5, y0), (x1 - 5, 0)]),
            PROP_LINE,
            c.w(4),
        )
        top_rect = (
            f'<rect x="{top[0]}" y="{top[1]}" width="{fmt(float(right[0]) - float(top[0]))}" '
            f'height="{c.w(7)}" rx="{c.w(2)}" fill="{PROP_FILL}" stroke="{PROP_LINE}" '
            f'stroke-width="{c.w(2.5)}"/>'
        )
        return legs + top_rect
    if prop.kind == "bar":
        bar = stroke(path_d(c, [prop.a, prop.b]), PROP_LINE, c.w(5))
        posts = stroke(
            path_d(c, [(prop.a[0], prop.a[1] + 8), (prop.a[0], prop.a[1] - 6)])
            + " "
            + path_d(c, [(prop.b[0], prop.b[1] + 8), (prop.b[0], prop.b[1] - 6)]),
            PROP_LINE,
            c.w(4),
        )
        return bar + posts
    if prop.kind == "wall":
        return stroke(path_d(c, [prop.a, prop.b]), PROP_LINE, c.w(5))
    if prop.kind == "dumbbell":
        # Held at the side, a dumbbell is seen end-on: a round plate.
        cx, cy = c.xy((prop.a[0], prop.a[1] - 3)).split()
        return (
            f'<circle cx="{cx}" cy="{cy}" r="{c.w(8)}" fill="#3f5f5f" '
            f'stroke="{BACKGROUND}" stroke-width="{c.w(2)}"/>'
            f'<circle cx="{cx}" cy="{cy}" r="{c.w(2.5)}" fill="#8fa9a9"/>'
        )
    raise ValueError(prop.kind)


def draw_arrow(c: Canvas, arrow: Arrow) -> str:
    pts = arrow.points
    s = c.scale
    if len(pts) == 2:
        d = path_d(c, pts)
        tail = pts[0]
    else:
        d = f"M{c.xy(pts[0])} Q{c.xy(pts[1])} {c.xy(pts[2])}"
        tail = pts[1]
    # The head points along the curve's last tangent (control point -> end).
    end = pts[-1]
    ang = math.atan2(end[1] - tail[1], end[0] - tail[0])
    tip = polar(end, math.degrees(ang), 2.5)
    left = polar(end, math.degrees(ang - 0.5) + 180, 7)
    right = polar(end, math.degrees(ang + 0.5) + 180, 7)
    head = (
        f'<path d="M{c.xy(tip)} L{c.xy(left)} L{c.xy(right)} Z" fill="{MOVE}" '
        f'stroke="{MOVE}" stroke-width="{fmt(1.5 * s)}" stroke-linejoin="round"/>'
    )
    return stroke(d, MOVE, c.w(3.5)) + head


def lerp(a: Pt, b: Pt, t: float) -> Pt:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def draw_figure(c: Canvas, pose: Pose) -> str:
    p = pose.pts
    limb_w, foot_w, torso_w = c.w(LIMB_W), c.w(FOOT_W), c.w(TORSO_W)
    s = c.scale
    out = []
    for part in pose.order:
        if part == "torso":
            if pose.bend:
                d = f"M{c.xy(p['hip'])} Q{c.xy(p['ctrl'])} {c.xy(p['shoulder'])}"
            else:
                d = path_d(c, [p["hip"], p["shoulder"]])
            width = c.w(TORSO_W + 6) if pose.flat else torso_w
            out.append(stroke(d, BODY, width, HALO, s))
        elif part == "head":
            hx, hy = c.xy(p["head"]).split()
            out.append(
                f'<circle cx="{hx}" cy="{hy}" r="{c.w(HEAD_R)}" fill="{BODY}" '
                f'stroke="{BACKGROUND}" stroke-width="{fmt(HALO * s)}"/>'
            )
            if pose.face:
                # A small nose shows which way the figure faces (up or down).
                neck_dir = angle_of(p["shoulder"], p["head"])
                nose = polar(p["head"], neck_dir - 78, HEAD_R - 0.5)
                nx, ny = c.xy(nose).split()
                out.append(f'<circle cx="{nx}" cy="{ny}" r="{c.w(3)}" fill="{BODY}"/>')
        else:
            kind, side = part.split("_")
            colour = BODY if side == "n" or pose.flat else FAR
            root = p["shoulder"] if kind == "arm" else p["hip"]
            if pose.flat:
                # Seen from the front, arms hang from the shoulders and legs
                # from the hips, a little either side of the spine.
                dx = (SHOULDER_HALF if kind == "arm" else HIP_HALF) * (-1 if side == "n" else 1)
                root = (root[0] + dx, root[1] - (3 if kind == "arm" else 0))
            mid = p[f"elbow_{side}"] if kind == "arm" else p[f"knee_{side}"]
            end = p[f"hand_{side}"] if kind == "arm" else p[f"ankle_{side}"]
            # The halo starts part-way down the limb so the joint with the
            # body blends in, while a limb crossing the body stays distinct.
            halo_d = path_d(c, [lerp(root, mid, 0.5), mid])
            out.append(stroke(path_d(c, [root, mid]), colour, limb_w, HALO, s, halo_d))
            # The lower segment gets its own gap, so a shin folded against its
            # thigh (quad stretch, kneeling) still shows as two parts.
            halo_d = path_d(c, [lerp(mid, end, 0.4), end])
            out.append(stroke(path_d(c, [mid, end]), colour, limb_w, HALO, s, halo_d))
            if kind == "leg":
                out.append(stroke(path_d(c, [end, p[f"toe_{side}"]]), colour, foot_w))
    return "".join(out)


def figure_box(pose: Pose) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for name, (x, y) in pose.pts.items():
        if name == "ctrl":
            continue
        r = HEAD_R if name == "head" else TORSO_W / 2 if name in ("hip", "shoulder") else LIMB_W / 2
        xs += [x - r, x + r]
        ys += [y - r, y + r]
    for prop in pose.props:
        if prop.kind in ("ball", "roller"):
            xs += [prop.a[0] - prop.r, prop.a[0] + prop.r]
            ys += [prop.a[1] + prop.r]
        elif prop.kind == "bar":
            xs += [prop.a[0], prop.b[0]]
            ys += [prop.a[1] + 8]
        elif prop.kind != "mat":
            xs += [prop.a[0], prop.b[0]]
            ys += [prop.a[1], prop.b[1]]
    for arrow in pose.arrows:
        for x, y in arrow.points:
            xs.append(x)
            ys.append(y)
    return min(xs), max(xs), min(ys), max(ys)


MAX_SCALE = 1.3
MAX_SCALE_SINGLE = 1.6  # a hold has the whole canvas: let a lying figure use it


def layout(scene: Scene) -> list[tuple[float, float, float, float]]:
    """Panels as (left, top, width, floor_y): one panel for a hold, two side
    by side for a movement, or two stacked when the figure lies down (side by
    side, a lying figure would be too small to read at thumbnail size)."""
    n = len(scene.panels)
    if n == 1:
        return [(0, 0, WIDTH, FLOOR_Y)]
    boxes = [figure_box(p) for p in scene.panels]
    lying = all((b[1] - b[0]) > 1.7 * max(b[3], 1) for b in boxes)
    if scene.layout == "stack" or (scene.layout == "auto" and lying):
        half = HEIGHT / 2
        return [(0, 0, WIDTH, half - 9), (0, half, WIDTH, HEIGHT - 9)]
    return [(0, 0, WIDTH / 2, FLOOR_Y), (WIDTH / 2, 0, WIDTH / 2, FLOOR_Y)]


def render(slug: str, scene: Scene) -> str:
    panels = layout(scene)
    boxes = [figure_box(p) for p in scene.panels]
    scale = MAX_SCALE if len(panels) > 1 else MAX_SCALE_SINGLE
    for (_left, top, width, floor), box in zip(panels, boxes, strict=True):
        scale = min(
            scale, (width - 2 * MARGIN) / (box[1] - box[0]), (floor - top - MARGIN) / box[3]
        )
    label = scene.label.replace("&", "and").replace('"', "'")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{label}">',
        f"<title>{label}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="14" fill="{BACKGROUND}"/>',
    ]
    floors = sorted({floor for _l, _t, _w, floor in panels})
    for floor in floors:
        out.append(
            f'<path d="M{MARGIN} {fmt(floor + 1.5)} H{WIDTH - MARGIN}" stroke="{FLOOR}" '
            'stroke-width="3" stroke-linecap="round"/>'
        )
    for (left, _top, width, floor), pose, box in zip(panels, scene.panels, boxes, strict=True):
        c = Canvas(scale, left + width / 2, (box[0] + box[1]) / 2, floor)
        for pr in pose.props:
            if pr.kind == "mat" and pr.a == pr.b:
                pr.a, pr.b = (box[0] - 10, 0), (box[1] + 10, 0)
        behind = [pr for pr in pose.props if pr.kind != "dumbbell"]
        front = [pr for pr in pose.props if pr.kind == "dumbbell"]
        out += [draw_prop(c, pr) for pr in behind]
        out.append(draw_figure(c, pose))
        out += [draw_prop(c, pr) for pr in front]
        out += [draw_arrow(c, a) for a in pose.arrows]
    if len(panels) == 2 and len(floors) == 1:
        cy = FLOOR_Y - 75
        out.append(
            f'<path d="M155 {cy - 10} L164 {cy} L155 {cy + 10}" fill="none" '
            f'stroke="{CHEVRON}" stroke-width="4" stroke-linecap="round" '
            'stroke-linejoin="round"/>'
        )
    out.append("</svg>\n")
    return "\n".join(out)


PLACEHOLDER = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" \
role="img" aria-label="No picture for this exercise yet">
<title>No picture for this exercise yet</title>
<rect width="{WIDTH}" height="{HEIGHT}" rx="14" fill="{BACKGROUND}"/>
<path d="M{MARGIN} {FLOOR_Y + 1.5} H{WIDTH - MARGIN}" stroke="{FLOOR}" stroke-width="3" \
stroke-linecap="round"/>
<circle cx="160" cy="62" r="12" fill="{MOVE}"/>
<path d="M160 84 V128 M160 128 L146 182 M160 128 L174 182 M160 92 L138 118 M160 92 L182 118" \
fill="none" stroke="{MOVE}" stroke-width="11" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""


def library_slugs() -> list[str]:
    if not LIBRARY.exists():
        return []
    with LIBRARY.open("rb") as f:
        return [e["slug"] for e in tomllib.load(f).get("exercise", [])]


def main(argv: list[str]) -> int:
    all_scenes = scenes()
    problems = [
        msg for slug, sc in all_scenes.items() for p in sc.panels for msg in check_lengths(slug, p)
    ]
    missing = [slug for slug in library_slugs() if slug not in all_scenes]
    if missing:
        problems.append(f"no drawing for: {', '.join(missing)}")
    for msg in problems:
        print(msg, file=sys.stderr)
    if "--check" in argv:
        return 1 if problems else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for slug, scene in all_scenes.items():
        (OUT_DIR / f"{slug}.svg").write_text(render(slug, scene), encoding="utf-8")
    (OUT_DIR / "placeholder.svg").write_text(PLACEHOLDER, encoding="utf-8")
    print(f"Drew {len(all_scenes)} exercises into {OUT_DIR.relative_to(ROOT)}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
