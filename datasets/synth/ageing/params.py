"""Every ageing effect's parameters, sampled up front so that a page's ageing is fully described.

Positions and sizes are fractions of the page (x of the width, y of the height) so one set of parameters
fits any page size; the fine random texture inside an effect (noise fields, tear jags) comes from the seed
given to `age_page`, the parameters fix what the effect is and how strong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RGB = tuple[float, float, float]
XY = tuple[float, float]

# Paper families an old register is printed on: off-white cream, recycled grey, cheap yellow-brown stock.
_PAPER_TONES: tuple[RGB, ...] = ((1.0, 0.965, 0.88), (0.95, 0.945, 0.93), (0.97, 0.885, 0.74))
_TABLE_COLOURS: dict[str, tuple[RGB, ...]] = {
    "dark": ((32.0, 32.0, 34.0), (52.0, 46.0, 42.0), (24.0, 28.0, 36.0)),
    "wood": ((122.0, 82.0, 50.0), (150.0, 108.0, 70.0), (92.0, 60.0, 40.0)),
    "cloth": ((44.0, 72.0, 54.0), (96.0, 36.0, 38.0), (40.0, 50.0, 84.0), (170.0, 160.0, 140.0)),
}


@dataclass(frozen=True)
class Stain:
    """A water or tea blotch: a faint irregular patch whose drying edge leaves a darker rim."""

    x: float
    y: float
    radius: float  # fraction of the page width
    darkness: float  # 0..1 darkening of the patch interior
    rim: float  # rim darkness relative to the interior (tide line)
    colour: RGB  # how strongly each channel is absorbed: tea takes blue far more than red


@dataclass(frozen=True)
class Paper:
    tone: RGB = (1.0, 1.0, 1.0)  # gain of blank paper per channel
    texture: float = 0.0  # amplitude of the cloudy fibre texture (gain)
    fibre: float = 0.0  # fine grain, grey levels
    yellow_edge: float = 0.0  # browning of the page border, 0..1
    yellow_width: float = 0.08  # how far it reaches in, fraction of the short side
    foxing: int = 0  # rust-brown spots
    specks: int = 0  # small dark dirt specks


@dataclass(frozen=True)
class Ink:
    fade: float = 0.0  # mean lightening of the handwriting, 0..1
    unevenness: float = 0.0  # how much the fade varies across the page
    brown: float = 0.0  # shift of faded handwriting toward brown (iron-gall, oxidised ballpoint)
    print_fade: float = 0.0  # lift of black print and ruling toward the paper


@dataclass(frozen=True)
class Bleed:
    opacity: float = 0.0  # darkness of the back page's ink seen through, 0 = off
    shift: XY = (0.0, 0.0)  # offset of the back page, fractions of (width, height)
    blur: float = 1.5  # pixels


@dataclass(frozen=True)
class Shadow:
    """A soft shadow (hand, phone, a book's other half) entering from one side of the photo."""

    side: int  # 0 top, 1 right, 2 bottom, 3 left
    start: float  # along the side, 0..1
    end: float
    depth: float  # how far it reaches in, fraction of that dimension
    darkness: float
    softness: float  # blur, fraction of the width


@dataclass(frozen=True)
class Lighting:
    gradient: float = 0.0  # linear fall-off of the light across the frame
    angle: float = 0.0  # direction of the fall-off, degrees
    vignette: float = 0.0
    gutter: float = 0.0  # darkening of a double page's gutter at x = W/2
    gutter_width: float = 0.04  # fraction of the width
    white_balance: RGB = (1.0, 1.0, 1.0)
    shadows: tuple[Shadow, ...] = ()


@dataclass(frozen=True)
class Curl:
    """Height of the page above the table, in page widths, as a function of x only (a bent sheet).

    A double page rises from its gutter (`gutter`, peaking `gutter_width` half-pages out) and lifts at
    its outer edges (`edge` over the last `edge_width`); `bow` adds a cylinder over the whole page
    (negative: the middle sags).
    """

    gutter: float = 0.0
    gutter_width: float = 0.12
    edge: float = 0.0
    edge_width: float = 0.15
    bow: float = 0.0


@dataclass(frozen=True)
class Geometry:
    """The page's placement in the output frame, composed in pixels as a homography.

    Each page corner first moves by its `perspective` offset (fractions of the page size), then the page is
    sheared, scaled and rotated about its centre and shifted (fractions of the frame).
    """

    rotation: float = 0.0  # degrees
    shear: float = 0.0
    scale: float = 1.0
    shift: XY = (0.0, 0.0)
    perspective: tuple[XY, XY, XY, XY] = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0))  # TL, TR, BR, BL
    curl: Curl | None = None


@dataclass(frozen=True)
class Tear:
    corner: bool  # a corner torn off (True) or a bite out of an edge
    index: int  # corner 0..3 (TL, TR, BR, BL) or side 0..3 (top, right, bottom, left)
    position: float  # along the side, 0..1 (edges only)
    width: float  # extent along the edge(s), fraction of the page width
    depth: float  # extent into the page, fraction of the page width
    jag: float  # raggedness of the torn line, 0..1


@dataclass(frozen=True)
class Background:
    kind: str = "scanner"  # scanner lid, or a table: dark, wood, cloth
    colour: RGB = (245.0, 245.0, 245.0)


@dataclass(frozen=True)
class Camera:
    blur: str | None = None  # gaussian, defocus or motion
    blur_size: float = 0.0  # sigma, disk radius or kernel length in pixels
    blur_angle: float = 0.0  # motion blur direction, degrees
    noise: float = 0.0  # luminance noise, grey levels (std)
    chroma_noise: float = 0.0  # blotchy colour noise of phone sensors, grey levels
    brightness: float = 0.0
    contrast: float = 0.0
    jpeg_quality: int | None = None


@dataclass(frozen=True)
class AgeingParams:
    """One page's whole ageing; the defaults (and zero or None in any field) leave that effect off."""

    strength: float = 0.0
    photo: bool = False
    paper: Paper = field(default_factory=Paper)
    stains: tuple[Stain, ...] = ()
    ink: Ink = field(default_factory=Ink)
    bleed: Bleed = field(default_factory=Bleed)
    lighting: Lighting = field(default_factory=Lighting)
    geometry: Geometry = field(default_factory=Geometry)
    tears: tuple[Tear, ...] = ()
    background: Background = field(default_factory=Background)
    camera: Camera = field(default_factory=Camera)


def sample_params(strength: float, rng: np.random.Generator, *, photo: bool | None = None) -> AgeingParams:
    """Draw one page's ageing: `strength` 0 is untouched, 1 the worst pages a digitisation team gets.

    `photo=None` decides by chance (likelier at high strength) between a phone photo (perspective,
    curl, shadows, a table around the page) and a flatbed scan (small skew, scanner lid, scanner noise).
    """
    s = float(np.clip(strength, 0.0, 1.0))
    if photo is None:
        photo = s > 0 and bool(rng.random() < 0.1 + 0.5 * s)
    if s == 0:
        return AgeingParams(strength=0.0, photo=bool(photo))

    def u(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    def chance(p: float) -> bool:
        return bool(rng.random() < p)

    tone = np.asarray(_PAPER_TONES[int(rng.integers(len(_PAPER_TONES)))])
    tone = (1.0 - s * u(0.3, 0.9) * (1.0 - tone)) * u(1.0 - 0.05 * s, 1.0)
    paper = Paper(
        tone=_rgb(tone),
        texture=s * u(0.004, 0.012),
        fibre=s * u(1.0, 4.0),
        yellow_edge=s * u(0.15, 0.5) if chance(0.3 + 0.6 * s) else 0.0,
        yellow_width=u(0.04, 0.14),
        foxing=int(s * u(0, 50)) if chance(0.6 * s) else 0,
        specks=int(s * u(0, 40)),
    )
    stains = tuple(
        Stain(x=u(0.0, 1.0), y=u(0.0, 1.0), radius=u(0.03, 0.16), darkness=s * u(0.04, 0.16), rim=u(0.5, 2.0),
              colour=(0.35, 0.6, 1.0) if chance(0.6) else (0.8, 0.85, 1.0))  # tea, else water
        for _ in range(min(4, int(rng.poisson(2.0 * s**1.5))))
    )
    ink = Ink(
        fade=s * u(0.1, 0.5) if chance(0.4 + 0.5 * s) else 0.0,
        unevenness=u(0.3, 1.0),
        brown=s * u(0.1, 0.5) if chance(0.4 * s) else 0.0,
        print_fade=s * u(0.05, 0.3),
    )
    bleed = (
        Bleed(opacity=s * u(0.02, 0.1), shift=(u(-0.02, 0.02), u(-0.01, 0.01)), blur=u(2.0, 5.0))
        if chance(0.15 + 0.6 * s)
        else Bleed()
    )
    gutter = s * u(0.15, 0.45) if chance(0.9 if photo else 0.4) else 0.0
    if photo:
        shadows = tuple(_sample_shadow(rng, s) for _ in range(int(rng.integers(1, 3)) if chance(0.5) else 0))
        warm = u(-0.08, 0.08) * s  # warm indoor light or cool daylight
        lighting = Lighting(
            gradient=s * u(0.05, 0.3),
            angle=u(0.0, 360.0),
            vignette=s * u(0.05, 0.3),
            gutter=gutter,
            gutter_width=u(0.02, 0.06),
            white_balance=_rgb(np.array([1.0 + min(warm, 0), 1.0 - abs(warm) / 3, 1.0 - max(warm, 0)])),
            shadows=shadows,
        )
        geometry = _sample_photo_geometry(rng, s)
        kind = ("dark", "wood", "cloth")[int(rng.integers(3))]
        colours = _TABLE_COLOURS[kind]
        background = Background(kind=kind, colour=colours[int(rng.integers(len(colours)))])
        blur = ("defocus", "motion", "gaussian")[int(rng.integers(3))] if chance(0.3 + 0.6 * s) else None
        blur_size = {"defocus": u(1.0, 1.0 + 1.0 * s), "motion": float(rng.choice([3, 5])),
                     "gaussian": u(0.5, 0.6 + 1.0 * s), None: 0.0}[blur]
        camera = Camera(blur=blur, blur_size=blur_size, blur_angle=u(0.0, 180.0), noise=s * u(2.0, 7.0),
                        chroma_noise=s * u(1.0, 5.0), **_sample_tone_curve(rng, s))
    else:
        lighting = Lighting(gradient=s * u(0.0, 0.05), angle=u(0.0, 360.0), gutter=gutter,
                            gutter_width=u(0.015, 0.04))
        geometry = _sample_scan_geometry(rng, s)
        background = Background(kind="scanner", colour=_rgb(np.full(3, u(238, 252) if chance(0.7) else u(195, 225))))
        camera = Camera(blur="gaussian" if chance(0.5 * s) else None, blur_size=u(0.4, 0.5 + 0.5 * s),
                        noise=s * u(0.5, 3.0), **_sample_tone_curve(rng, s))
    tears = tuple(_sample_tear(rng, s) for _ in range(min(3, int(rng.poisson(1.2 * s**2)))))
    return AgeingParams(strength=s, photo=bool(photo), paper=paper, stains=stains, ink=ink, bleed=bleed,
                        lighting=lighting, geometry=geometry, tears=tears, background=background, camera=camera)


def _rgb(a: np.ndarray) -> RGB:
    return (float(a[0]), float(a[1]), float(a[2]))


def _sample_tone_curve(rng: np.random.Generator, s: float) -> dict[str, float | int | None]:
    on = rng.random() < 0.3 + 0.4 * s
    jpeg = rng.random() < 0.5 + 0.5 * s
    return {
        "brightness": float(rng.uniform(-0.08, 0.06) * s) if on else 0.0,
        "contrast": float(rng.uniform(-0.25, 0.1) * s) if on else 0.0,
        "jpeg_quality": round(95 - s * rng.uniform(10, 55)) if jpeg else None,
    }


def _sample_scan_geometry(rng: np.random.Generator, s: float) -> Geometry:
    limit = 1.0 + 3.0 * s  # degrees
    return Geometry(
        rotation=float(np.clip(rng.normal(0.0, 0.3 + limit / 3), -limit, limit)),
        shear=float(rng.uniform(-0.01, 0.01) * s),
        scale=float(rng.uniform(1.0 - 0.04 * s, 1.0)),
        shift=(float(rng.uniform(-0.015, 0.015) * s), float(rng.uniform(-0.015, 0.015) * s)),
    )


def _sample_photo_geometry(rng: np.random.Generator, s: float) -> Geometry:
    persp = rng.uniform(-1, 1, (4, 2)) * float(rng.uniform(0.01, 0.05) * s)
    curl = None
    if rng.random() < 0.4 + 0.5 * s:
        curl = Curl(
            gutter=float(rng.uniform(0.01, 0.04) * s),
            gutter_width=float(rng.uniform(0.08, 0.16)),
            edge=float(rng.uniform(0.0, 0.04) * s),
            edge_width=float(rng.uniform(0.08, 0.2)),
            bow=float(rng.uniform(-0.02, 0.03) * s),
        )
    return Geometry(
        rotation=float(np.clip(rng.normal(0.0, 1.0 + 1.5 * s), -5, 5)),
        scale=float(rng.uniform(0.74, 0.9)),
        shift=(float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04))),
        perspective=tuple((float(x), float(y)) for x, y in persp),  # type: ignore[arg-type]
        curl=curl,
    )


def _sample_shadow(rng: np.random.Generator, s: float) -> Shadow:
    a, b = sorted(rng.uniform(-0.2, 1.2, 2))
    return Shadow(side=int(rng.integers(4)), start=float(a), end=float(max(b, a + 0.2)),
                  depth=float(rng.uniform(0.1, 0.45)), darkness=float(s * rng.uniform(0.12, 0.4)),
                  softness=float(rng.uniform(0.02, 0.08)))


def _sample_tear(rng: np.random.Generator, s: float) -> Tear:
    corner = bool(rng.random() < 0.6)
    size = 0.06 * float(np.sqrt(s)) * float(rng.uniform(0.25, 1.0))  # never beyond 6% of the width
    # Edge tears keep off the middle, where a double page's gutter is.
    position = float(rng.uniform(0.08, 0.4)) if rng.random() < 0.5 else float(rng.uniform(0.6, 0.92))
    return Tear(corner=corner, index=int(rng.integers(4)), position=position,
                width=size * float(rng.uniform(0.8, 2.0) if not corner else rng.uniform(0.6, 1.4)),
                depth=size, jag=float(rng.uniform(0.2, 1.0)))
